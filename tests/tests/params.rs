//! `halo::params` against emulators on loopback, one test binary: SSM
//! Parameter Store on moto (`ssm`), and the sources beside it (`sources`):
//! Secrets Manager, DynamoDB (moto and dynalite) and AppConfig.

#[path = "params/sources.rs"]
mod sources;
#[path = "params/ssm.rs"]
mod ssm;
