//! The one way both programs print. A command's result goes to standard output through
//! [`finish`]: nobody reading any more (`| head -c 10`) ends the output quietly with the
//! command's own exit code; any other failure to write (a full disk) is said on standard
//! error with exit code 72. Messages go to standard error through [`say`], whose write
//! errors are ignored (a closed or full stderr is not a reason to stop a capture). Nothing
//! here panics, whatever standard output and standard error are.

use std::io::Write;

use crate::exit;

/// Prints `text` and returns `code`, or 72 when the output could not be written.
pub fn finish(code: i32, text: &str) -> i32 {
    finish_to(&mut std::io::stdout().lock(), code, text)
}

/// [`finish`] to another output stream (a pipe or terminal named on the command line).
pub fn finish_to(out: &mut impl Write, code: i32, text: &str) -> i32 {
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => code,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => code,
        Err(e) => {
            say(&format!("error: cannot write the output: {e}"));
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

/// A command line clap did not run: `--help` and `--version` printed as a command's result
/// (exit 0), anything else said on standard error with exit code 11.
pub fn command_line(e: &clap::Error) -> i32 {
    use clap::error::ErrorKind;
    let text = e.render().to_string();
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => finish(exit::OK, &text),
        _ => {
            say(text.trim_end());
            exit::INVALID_PARAMETERS
        }
    }
}
