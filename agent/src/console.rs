//! The technician's console: messages on standard error that never fail the program (a
//! closed or full stderr is not a reason to stop a capture), and questions answered on
//! standard input.

use std::io::{BufRead, IsTerminal};

/// Lines on standard error, whose write errors are ignored: the output path both programs
/// share.
pub use lifeboat_common::output::{say, say_part};

/// Asks a question; `None` when standard input has ended (nobody will answer).
pub fn ask(prompt: &str) -> Option<String> {
    say_part(prompt);
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim().to_string()),
    }
}

/// Whether someone can be asked: standard input is a terminal.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal()
}

/// A heading readable from across the room.
pub fn banner(text: &str) {
    let bar = "=".repeat(text.chars().count().clamp(20, 72));
    say(&format!("\n{bar}\n{text}\n{bar}"));
}
