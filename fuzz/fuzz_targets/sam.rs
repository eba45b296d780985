//! The SAM's binary records: a user's `F` (flags, times) and `V` (offset table into names,
//! comments, SIDs), the account domain's `V` (machine SID), the first byte choosing; and a
//! whole SAM hive (input starting `regf`, so real SAM files are seeds as they are) read the
//! way detection reads it.
#![no_main]


use libfuzzer_sys::fuzz_target;
use lifeboat::detect::sam;
use lifeboat::hive::LoadedHive;

fuzz_target!(|data: &[u8]| {
    if data.starts_with(b"regf") {
        if let Ok(h) = LoadedHive::from_bytes("SAM", data.to_vec(), &[]) {
            let _ = sam::read_sam(&h);
        }
        return;
    }
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    match which % 3 {
        0 => {
            let _ = sam::parse_user_f(rest);
        }
        1 => {
            let _ = sam::parse_user_v(rest);
        }
        _ => {
            let _ = sam::machine_sid_from_domain_v(rest);
            let _ = sam::parse_sid(rest);
        }
    }
});
