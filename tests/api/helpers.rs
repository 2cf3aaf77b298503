// Filled in with the capability it tests.
