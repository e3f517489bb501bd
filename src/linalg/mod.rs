//! Thin SVD, symmetric eigen, Cholesky and QR behind the backend feature.
