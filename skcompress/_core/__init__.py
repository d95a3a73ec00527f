"""The core every layer builds on (private).

The data contract and its layouts (``_contract``), zig-zag orders and DCT
bases (``_basis``), chunking of large inputs (``_chunks``), the array namespace that lets one
algorithm serve numpy and torch (``_array_api``), device handling
(``_device``), docstring templates (``_docs``) and symbol statistics that need
no coder (``_statistics``). Nothing here imports another part of skcompress.
"""
