//! The command line: parsing, dispatch, and the mapping of errors to exit codes.

pub fn main() -> i32 {
    0
}
