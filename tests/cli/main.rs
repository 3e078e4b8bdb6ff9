//! Integration tests of the `dozen` binary: every non-interactive path, bad input, atomic
//! writing, git results and one real pseudo-terminal session. One crate, one builder (`support`).

mod adopt;
mod attacks;
mod bad_input;
mod docs;
mod first_commit;
mod generate;
mod hostile;
mod interactive;
mod json;
mod layout;
mod names;
mod packs;
mod precedence;
mod render_limits;
mod status;
mod support;
mod transport;
mod update;
mod update_many;
