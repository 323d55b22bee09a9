//! Regex analysis of tag policies (PL003): which tags a policy admits, decided on the
//! policy's automaton, with a counterexample tag for every problem.
