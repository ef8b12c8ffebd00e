//! The shared segment: its lifecycle ([`segment`]) and the slot array with
//! its hand-off protocol ([`slots`]).

pub mod segment;
pub mod slots;

pub use segment::Segment;
pub use slots::{Header, Slot};
