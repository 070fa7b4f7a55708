//! The slot table behind every id the C side holds (handles and recommendation details): values
//! by index, each slot with a generation that a release bumps, so that an id of a released value
//! never matches again. A slot whose generation reaches the table's last is retired, never
//! reused. Callers hold the table under their own lock and pack (index, generation) into ids
//! with `pack` and `unpack`: one layout for every table.
//!
//! An id is `TAG | kind | generation << 32 | index`, cast to an opaque pointer type and never
//! dereferenced. `TAG` (bit 63) keeps every id outside the user address space, so a garbage
//! collector that scans pointer-typed fields (Go's, through cgo) never mistakes one for a pointer
//! into its heap; the kind bit (62) tells a recommendation detail's id from a handle's, so that
//! neither can pass for the other; generations take the 30 bits below it.

/// Set in every id: no user-space address has it.
pub(crate) const TAG: u64 = 1 << 63;
/// The kind bit of handle ids (clear).
pub(crate) const HANDLE_KIND: u64 = 0;
/// The kind bit of recommendation details' ids (set).
pub(crate) const DETAIL_KIND: u64 = 1 << 62;
/// The generation after which a slot is retired (small in unit tests, to exercise retirement):
/// the largest that fits the id's 30 bits.
pub(crate) const LAST_GENERATION: u32 = if cfg!(test) { 8 } else { (1 << 30) - 1 };

/// The id of (index, generation) in a table whose ids are of `kind`.
pub(crate) fn pack(kind: u64, index: u32, generation: u32) -> usize {
    (TAG | kind | (u64::from(generation) << 32) | u64::from(index)) as usize
}

/// (index, generation) of an id of `kind`; None for anything else (untagged, or of the other
/// kind).
pub(crate) fn unpack(kind: u64, id: usize) -> Option<(usize, u32)> {
    let id = id as u64;
    (id & (TAG | DETAIL_KIND) == TAG | kind).then_some((
        (id & 0xffff_ffff) as usize,
        ((id >> 32) & 0x3fff_ffff) as u32,
    ))
}

/// One slot: its generation and its value while live.
struct Slot<V> {
    generation: u32,
    value: Option<V>,
}

pub(crate) struct Slots<V> {
    slots: Vec<Slot<V>>,
    /// Indices of empty, unretired slots.
    free: Vec<u32>,
    live: usize,
    /// The generation after which a slot is retired.
    last_generation: u32,
}

impl<V> Slots<V> {
    pub(crate) const fn new(last_generation: u32) -> Slots<V> {
        Slots {
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
            last_generation,
        }
    }

    /// Keep `value`: its (index, generation). Errors when 2^32 slots are taken (`too_many`
    /// names what).
    pub(crate) fn insert(&mut self, value: V, too_many: &str) -> Result<(u32, u32), String> {
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                let i = u32::try_from(self.slots.len()).map_err(|_| too_many.to_string())?;
                self.slots.push(Slot {
                    generation: 1,
                    value: None,
                });
                i
            }
        };
        self.live += 1;
        let slot = &mut self.slots[index as usize];
        slot.value = Some(value);
        Ok((index, slot.generation))
    }

    /// The live value at (index, generation).
    pub(crate) fn get(&self, index: usize, generation: u32) -> Option<&V> {
        self.slots
            .get(index)
            .filter(|s| s.generation == generation)
            .and_then(|s| s.value.as_ref())
    }

    /// Release the live value at (index, generation) and hand its place to `release` (which
    /// takes it out, or drops it where it is); false if there is none.
    pub(crate) fn remove(
        &mut self,
        index: usize,
        generation: u32,
        release: impl FnOnce(&mut Option<V>),
    ) -> bool {
        let last = self.last_generation;
        let Some(slot) = self
            .slots
            .get_mut(index)
            .filter(|s| s.generation == generation && s.value.is_some())
        else {
            return false;
        };
        release(&mut slot.value);
        slot.value = None;
        slot.generation += 1;
        if slot.generation < last {
            self.free.push(index as u32);
        }
        self.live -= 1;
        true
    }

    /// Live values.
    pub(crate) fn live(&self) -> usize {
        self.live
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn released_places_never_match_again_and_slots_retire() {
        let mut t = Slots::new(4);
        let mut seen = std::collections::HashSet::new();
        for i in 0..20u32 {
            let (index, generation) = t.insert(i, "too many").expect("room");
            assert!(
                seen.insert((index, generation)),
                "a place was handed out twice"
            );
            assert_eq!(t.get(index as usize, generation), Some(&i));
            assert_eq!(t.live(), 1);
            let mut out = None;
            assert!(t.remove(index as usize, generation, |v| out = v.take()));
            assert_eq!(out, Some(i));
            assert_eq!(t.get(index as usize, generation), None);
            assert!(!t.remove(index as usize, generation, |_| {}));
            assert_eq!(t.live(), 0);
        }
        // Each slot served three generations (1, 2, 3) before retiring at 4.
        assert_eq!(t.slots.len(), 7);
    }

    #[test]
    fn ids_round_trip_and_never_pass_for_the_other_kind() {
        for (index, generation) in [(0, 1), (7, 3), (u32::MAX, LAST_GENERATION)] {
            let handle = pack(HANDLE_KIND, index, generation);
            let detail = pack(DETAIL_KIND, index, generation);
            assert_eq!(
                unpack(HANDLE_KIND, handle),
                Some((index as usize, generation))
            );
            assert_eq!(
                unpack(DETAIL_KIND, detail),
                Some((index as usize, generation))
            );
            assert_eq!(unpack(DETAIL_KIND, handle), None);
            assert_eq!(unpack(HANDLE_KIND, detail), None);
            assert_eq!(handle as u64 >> 63, 1, "every id carries the tag");
            assert_eq!(unpack(HANDLE_KIND, handle & !(TAG as usize)), None);
        }
    }
}
