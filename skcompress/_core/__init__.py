"""The core every layer builds on (private).

The data contract and its layouts (``_contract``), zig-zag orders and DCT
bases (``_basis``), chunking of large inputs (``_chunks``), the array namespace
that lets one algorithm serve numpy and torch (``_array_api``), device handling
(``_device``), docstring templates (``_docs``), symbol statistics that need no
coder (``_statistics``), what every public estimator shares: documentation
links, test parameters, unfitted-on-error fits (``_estimator``), the bounds of
parameters (``_limits``) and ``check_is_fitted`` for objects that are not
estimators (``_fitted``). Nothing here imports another part of skcompress.
"""
