//! Admission of agent batches: a tenant's fair share of the ingest slots, and the few
//! processing slots under which batches are decoded, parsed and stored.
//!
//! A batch is admitted after its agent authenticated (a SHA-256 compare and two indexed
//! reads) and before its body is read. It needs one of its tenant's slots
//! (`ingest.per_tenant_in_flight`) and one of the process's (`ingest.max_in_flight`): a tenant
//! whose agents hold all their slots (slow bodies, big batches) is answered `429 tenant_busy`
//! and takes nothing from the others, which keep `max_in_flight - per_tenant_in_flight` slots
//! whatever one tenant does. Decoding, parsing and storing run under a separate FIFO semaphore
//! of `ingest.processing_slots`, which bounds the memory all batches in work take together to
//! `processing_slots` times what one batch at the caps takes (its records and their rows),
//! however many tenants send at once. A tenant queues for that semaphore with one batch at a
//! time (its turn), so another tenant's batch waits behind at most one of its batches per
//! processing slot, never behind all of them.
//!
//! Cardinality: one map entry per tenant with a batch in flight, removed when its last slot is
//! released.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

/// Why a batch was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The tenant's agents hold all the tenant's slots.
    TenantBusy,
    /// Every slot of the process is held.
    ServerBusy,
}

/// The ingest slots of one process.
pub struct IngestGate {
    global: Arc<Semaphore>,
    processing: Arc<Semaphore>,
    per_tenant_max: usize,
    in_flight: Arc<Mutex<HashMap<Uuid, TenantSlots>>>,
}

/// One tenant's batches in flight and its turn at the processing slots.
struct TenantSlots {
    held: usize,
    turn: Arc<Semaphore>,
}

/// A batch's admission: holds one tenant slot and one process slot until dropped.
pub struct Admission {
    _global: OwnedSemaphorePermit,
    tenant: Uuid,
    turn: Arc<Semaphore>,
    in_flight: Arc<Mutex<HashMap<Uuid, TenantSlots>>>,
}

/// A processing slot and the tenant's turn, held while a batch is decoded and stored.
pub struct ProcessingSlot {
    _slot: OwnedSemaphorePermit,
    _turn: OwnedSemaphorePermit,
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut map = self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(slots) = map.get_mut(&self.tenant) {
            slots.held = slots.held.saturating_sub(1);
            if slots.held == 0 {
                map.remove(&self.tenant);
            }
        }
    }
}

impl IngestGate {
    /// A gate of `max_in_flight` slots, at most `per_tenant` of them per tenant, and
    /// `processing_slots` batches in work at once. Zeros are raised to one.
    pub fn new(max_in_flight: usize, per_tenant: usize, processing_slots: usize) -> Self {
        Self {
            global: Arc::new(Semaphore::new(max_in_flight.max(1))),
            processing: Arc::new(Semaphore::new(processing_slots.max(1))),
            per_tenant_max: per_tenant.max(1),
            in_flight: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Admits a batch of `tenant` now, or says why not (never waits).
    pub fn admit(&self, tenant: Uuid) -> Result<Admission, Refusal> {
        let mut map = self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let held = map.get(&tenant).map_or(0, |slots| slots.held);
        if held >= self.per_tenant_max {
            return Err(Refusal::TenantBusy);
        }
        let global = self
            .global
            .clone()
            .try_acquire_owned()
            .map_err(|_| Refusal::ServerBusy)?;
        let slots = map.entry(tenant).or_insert_with(|| TenantSlots {
            held: 0,
            turn: Arc::new(Semaphore::new(1)),
        });
        slots.held += 1;
        Ok(Admission {
            _global: global,
            tenant,
            turn: slots.turn.clone(),
            in_flight: self.in_flight.clone(),
        })
    }

    /// Waits for the tenant's turn, then (first come, first served among tenants) for a
    /// processing slot. Holders work on input that is already read and capped, so the wait is
    /// bounded; the caller holds its admission meanwhile.
    pub async fn processing_slot(&self, admission: &Admission) -> Option<ProcessingSlot> {
        let turn = admission.turn.clone().acquire_owned().await.ok()?;
        let slot = self.processing.clone().acquire_owned().await.ok()?;
        Some(ProcessingSlot {
            _slot: slot,
            _turn: turn,
        })
    }

    /// Tenants with a batch in flight (for tests and metrics).
    pub fn tenants_in_flight(&self) -> usize {
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn one_tenant_cannot_take_the_other_tenants_slots() {
        let gate = IngestGate::new(4, 2, 1);
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let held_a: Vec<_> = (0..2).map(|_| gate.admit(a).unwrap()).collect();
        assert_eq!(gate.admit(a).err(), Some(Refusal::TenantBusy));
        assert_eq!(gate.admit(a).err(), Some(Refusal::TenantBusy));
        let held_b: Vec<_> = (0..2).map(|_| gate.admit(b).unwrap()).collect();
        assert_eq!(gate.admit(Uuid::now_v7()).err(), Some(Refusal::ServerBusy));
        drop(held_a);
        assert!(gate.admit(a).is_ok());
        drop(held_b);
    }

    #[test]
    fn released_slots_leave_no_entry_behind() {
        let gate = IngestGate::new(8, 2, 1);
        for _ in 0..1000 {
            let t = Uuid::now_v7();
            let x = gate.admit(t).unwrap();
            let y = gate.admit(t).unwrap();
            drop((x, y));
        }
        assert_eq!(gate.tenants_in_flight(), 0);
        let held = gate.admit(Uuid::now_v7()).unwrap();
        assert_eq!(gate.tenants_in_flight(), 1);
        drop(held);
        assert_eq!(gate.tenants_in_flight(), 0);
    }

    #[tokio::test]
    async fn a_tenant_queues_for_processing_with_one_batch_at_a_time() {
        let gate = IngestGate::new(8, 2, 1);
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let (a1, a2, b1) = (
            gate.admit(a).unwrap(),
            gate.admit(a).unwrap(),
            gate.admit(b).unwrap(),
        );
        let working = gate.processing_slot(&a1).await.unwrap();
        // The tenant's second batch waits for its turn, not in the processing queue, so the
        // other tenant's batch is next when the slot frees.
        let second = gate.processing_slot(&a2);
        let other = gate.processing_slot(&b1);
        tokio::pin!(second, other);
        assert!(futures::poll!(&mut second).is_pending());
        assert!(futures::poll!(&mut other).is_pending());
        drop(working);
        assert!(futures::poll!(&mut second).is_pending());
        let other_slot = match futures::poll!(&mut other) {
            std::task::Poll::Ready(slot) => slot.unwrap(),
            std::task::Poll::Pending => panic!("the other tenant waited behind a second batch"),
        };
        drop(other_slot);
        assert!(second.await.is_some());
    }

    #[test]
    fn a_refused_admission_holds_no_process_slot() {
        let gate = IngestGate::new(2, 1, 1);
        let a = Uuid::now_v7();
        let _held = gate.admit(a).unwrap();
        for _ in 0..10 {
            assert_eq!(gate.admit(a).err(), Some(Refusal::TenantBusy));
        }
        assert!(gate.admit(Uuid::now_v7()).is_ok());
    }
}
