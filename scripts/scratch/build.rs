fn main() -> Result<(), Box<dyn std::error::Error>> {
    kratos_build::configure().compile(&["proto/helloworld/v1/greeter.proto"], &["proto"])?;
    Ok(())
}
