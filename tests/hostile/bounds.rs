//! Bounded input: nothing an outside party sends may exhaust memory or hang a command.
