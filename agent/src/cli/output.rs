//! A command's result on standard output: the one output path both programs share
//! ([`lifeboat_common::output`]). Nobody reading any more (`| head -c 10`) ends the output
//! quietly with the command's own exit code; any other failure to write (a full disk) is
//! said on standard error with exit code 72. Never a panic.

pub use lifeboat_common::output::{command_line, finish, finish_to, json};
