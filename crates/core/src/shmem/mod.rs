//! The shared segment: its lifecycle ([`segment`]), the slot array with
//! its hand-off protocol ([`slots`]), the facts kept for observers
//! ([`facts`]) and the opt-in supervision's words ([`supervision`]).

pub mod facts;
pub mod segment;
pub mod slots;
/// cbindgen:ignore
pub mod supervision;

pub use segment::Segment;
pub use slots::{Header, Slot};
