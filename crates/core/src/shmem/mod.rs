//! The shared segment: its lifecycle ([`segment`]), the slot array with
//! its hand-off protocol ([`slots`]) and the facts kept for observers
//! ([`facts`]).

pub mod facts;
pub mod segment;
pub mod slots;

pub use segment::Segment;
pub use slots::{Header, Slot};
