//! Hash maps with a fast, non-cryptographic hasher: the snapshot builds maps keyed by file
//! index and path for every tree (history: every commit), and nothing an attacker writes
//! chooses those keys in bulk beyond the size of the repository itself.

pub type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
