//! One module per subcommand.

pub mod bench;
pub mod models;
pub mod serve;
pub mod transcribe;
