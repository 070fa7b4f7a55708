//! Tables that find the first rule of a kind for one signal in one step: the HTTP, gRPC and
//! error-code rules are most of the built-in ones and are read on almost every failure, so a
//! scan over them was a visible part of a decision's cost.

use super::matcher::Compiled;
use std::collections::HashMap;

/// The highest status an HTTP rule may name (`Compiled::new` refuses more).
const HTTP_STATUSES: usize = 1000;
/// gRPC codes looked up in a table (0..=16 are the defined ones; others are scanned).
const GRPC_CODES: usize = 32;
/// Longer error codes are compared by a scan (they do not fit the stack buffer).
const MAX_CODE_LEN: usize = 64;
const NONE: u32 = u32::MAX;

/// For each signal value, the index of the first rule (in rule order) of its kind that matches
/// it.
#[derive(Debug, Clone)]
pub(crate) struct Lookup {
    http: Box<[u32]>,
    grpc: [u32; GRPC_CODES],
    /// Error codes, lower-cased (as bytes: a lower-cased code needs no UTF-8 check).
    codes: HashMap<Box<[u8]>, u32, foldhash::fast::FixedState>,
}

impl Lookup {
    /// The tables for `rules` (compiled matchers with their rule indices, in rule order).
    pub(crate) fn new<'a>(rules: impl Iterator<Item = &'a (Compiled, usize)>) -> Lookup {
        let mut http = vec![NONE; HTTP_STATUSES].into_boxed_slice();
        let mut grpc = [NONE; GRPC_CODES];
        let mut codes = HashMap::with_hasher(foldhash::fast::FixedState::default());
        // Rules come in order, so the first to claim a value keeps it.
        let claim = |slot: &mut u32, index: usize| {
            if *slot == NONE {
                *slot = u32::try_from(index).unwrap_or(NONE);
            }
        };
        for (compiled, index) in rules {
            match compiled {
                Compiled::Http(lo, hi) => {
                    let hi = usize::from(*hi).min(HTTP_STATUSES - 1);
                    for slot in http.iter_mut().take(hi + 1).skip(usize::from(*lo)) {
                        claim(slot, *index);
                    }
                }
                Compiled::Grpc(list) => {
                    for code in list {
                        if let Some(slot) = grpc.get_mut(*code as usize) {
                            claim(slot, *index);
                        }
                    }
                }
                Compiled::Code(names) => {
                    for name in names {
                        claim(codes.entry(name.as_bytes().into()).or_insert(NONE), *index);
                    }
                }
                _ => {}
            }
        }
        Lookup { http, grpc, codes }
    }

    /// The first HTTP rule matching `status`.
    pub(crate) fn http(&self, status: u16) -> Option<usize> {
        found(*self.http.get(usize::from(status))?)
    }

    /// The first gRPC rule matching `code`, or Err when the code is past the table (scan).
    pub(crate) fn grpc(&self, code: u32) -> Result<Option<usize>, ()> {
        self.grpc.get(code as usize).map(|i| found(*i)).ok_or(())
    }

    /// The first error-code rule matching `code` (without case), or Err when the code is too
    /// long for the table's stack buffer (scan).
    pub(crate) fn code(&self, code: &str) -> Result<Option<usize>, ()> {
        let mut buf = [0u8; MAX_CODE_LEN];
        let lowered = buf.get_mut(..code.len()).ok_or(())?;
        lowered.copy_from_slice(code.as_bytes());
        lowered.make_ascii_lowercase();
        Ok(self.codes.get(&*lowered).and_then(|i| found(*i)))
    }
}

fn found(index: u32) -> Option<usize> {
    (index != NONE).then_some(index as usize)
}
