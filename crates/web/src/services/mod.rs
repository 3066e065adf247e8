//! Use cases: the workflows behind the pages. A handler parses its input, calls one use case
//! and renders what it returns; the use case checks, decides and stores, and its store call
//! commits the change together with its audit entry in one transaction.

pub mod careplan;
