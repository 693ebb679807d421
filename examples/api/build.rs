//! Compiles the example protos with protox (pure Rust, no system protoc).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = [
        "proto/helloworld/v1/greeter.proto",
        "proto/echo/v1/echo.proto",
    ];
    for proto in protos {
        println!("cargo:rerun-if-changed={proto}");
    }
    let fds = protox::compile(protos, ["proto"])?;
    tonic_prost_build::configure()
        .type_attribute(".", "#[derive(serde::Serialize, serde::Deserialize)]")
        .type_attribute(".", "#[serde(default, rename_all = \"camelCase\")]")
        .compile_fds(fds)?;
    Ok(())
}
