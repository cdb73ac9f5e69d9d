"""The network layer: the only code that imports pynetdicom. Thin: translate, call the model."""
