"""NN graph (a validated `list[LayerSpec]`) to a torch module, its summary and standalone source.

`module_steps` is the single source of the flat `layers.<i>` numbering; the module builder,
the summary and the code generator all read it, so their indices cannot drift apart.
"""
