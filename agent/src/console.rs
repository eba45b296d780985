//! The technician's console: messages on standard error that never fail the program (a
//! closed or full stderr is not a reason to stop a capture), and questions answered on
//! standard input.

use std::io::{BufRead, IsTerminal, Write};

/// A line on standard error; write errors are ignored.
pub fn say(text: &str) {
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(text.as_bytes());
    let _ = e.write_all(b"\n");
}

/// Text on standard error without a line end (a prompt, a progress line).
pub fn say_part(text: &str) {
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(text.as_bytes());
    let _ = e.flush();
}

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
