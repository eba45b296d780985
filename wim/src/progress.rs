//! wimlib's progress callback, made safe: one trampoline, a context on the caller's stack
//! (registered only for the duration of one call), panics caught at the boundary.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use wimlib_sys as w;

use super::tchar::host_path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Write,
    Extract,
    Verify,
}

#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub phase: Phase,
    pub bytes_done: u64,
    pub bytes_total: u64,
}

pub type OnProgress<'a> = &'a mut dyn FnMut(Progress);
/// Decides, during wimlib's scan, whether a file or folder on disk goes into the image.
/// It is asked once for every path wimlib meets, so it must be cheap: no stat.
pub type Keep<'a> = &'a mut dyn FnMut(&Path) -> bool;

pub(crate) struct Ctx<'a> {
    pub on_progress: Option<OnProgress<'a>>,
    pub keep: Option<Keep<'a>>,
}

/// Runs `f` with `ctx` registered as `wim`'s progress function.
pub(crate) fn with_progress<T>(
    wim: *mut w::WIMStruct,
    ctx: &mut Ctx<'_>,
    f: impl FnOnce() -> T,
) -> T {
    // SAFETY: ctx outlives the call; it is unregistered before this function returns.
    unsafe {
        w::wimlib_register_progress_function(wim, Some(trampoline), ctx as *mut Ctx as *mut c_void)
    };
    let r = f();
    unsafe { w::wimlib_register_progress_function(wim, None, std::ptr::null_mut()) };
    r
}

unsafe extern "C" fn trampoline(
    msg: w::wimlib_progress_msg,
    info: *mut w::wimlib_progress_info,
    ctx: *mut c_void,
) -> w::wimlib_progress_status {
    if ctx.is_null() || info.is_null() {
        return w::wimlib_progress_status_WIMLIB_PROGRESS_STATUS_CONTINUE;
    }
    let ctx = &mut *(ctx as *mut Ctx);
    let r = catch_unwind(AssertUnwindSafe(|| match msg {
        w::wimlib_progress_msg_WIMLIB_PROGRESS_MSG_TEST_FILE_EXCLUSION => {
            let t = &mut (*info).test_file_exclusion;
            if let Some(keep) = ctx.keep.as_mut() {
                t.will_exclude = !keep(&host_path(t.path));
            }
        }
        w::wimlib_progress_msg_WIMLIB_PROGRESS_MSG_WRITE_STREAMS => {
            let s = &(*info).write_streams;
            if let Some(p) = ctx.on_progress.as_mut() {
                p(Progress {
                    phase: Phase::Write,
                    bytes_done: s.completed_bytes,
                    bytes_total: s.total_bytes,
                });
            }
        }
        w::wimlib_progress_msg_WIMLIB_PROGRESS_MSG_EXTRACT_STREAMS => {
            let s = &(*info).extract;
            if let Some(p) = ctx.on_progress.as_mut() {
                p(Progress {
                    phase: Phase::Extract,
                    bytes_done: s.completed_bytes,
                    bytes_total: s.total_bytes,
                });
            }
        }
        w::wimlib_progress_msg_WIMLIB_PROGRESS_MSG_VERIFY_STREAMS => {
            let s = &(*info).verify_streams;
            if let Some(p) = ctx.on_progress.as_mut() {
                p(Progress {
                    phase: Phase::Verify,
                    bytes_done: s.completed_bytes,
                    bytes_total: s.total_bytes,
                });
            }
        }
        _ => {}
    }));
    match r {
        Ok(()) => w::wimlib_progress_status_WIMLIB_PROGRESS_STATUS_CONTINUE,
        Err(_) => w::wimlib_progress_status_WIMLIB_PROGRESS_STATUS_ABORT,
    }
}
