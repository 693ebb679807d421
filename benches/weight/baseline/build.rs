fn main() -> Result<(), Box<dyn std::error::Error>> {
    tonic_prost_build::configure()
        .build_client(true)
        .compile_protos(&["proto/helloworld/v1/greeter.proto"], &["proto"])?;
    Ok(())
}
