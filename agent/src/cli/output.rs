//! A command's result on standard output. Nobody reading any more (`| head -c 10`) ends
//! the output quietly with the command's own exit code; any other failure to write (a full
//! disk) is said on standard error with exit code 72. Never a panic.

use std::io::Write;

use super::exit;

/// Prints `text` and returns `code`, or 72 when the output could not be written.
pub fn finish(code: i32, text: &str) -> i32 {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => code,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => code,
        Err(e) => {
            crate::console::say(&format!("error: cannot write the output: {e}"));
            exit::FATAL
        }
    }
}

/// A value as pretty JSON and a line end.
pub fn json(v: &impl serde::Serialize) -> String {
    match crate::shown::json_pretty(v) {
        Ok(s) => s + "\n",
        Err(e) => format!("{{\"error\": \"cannot render the report: {e}\"}}\n"),
    }
}
