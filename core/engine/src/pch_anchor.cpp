// Anchors the precompiled <torch/torch.h> shared by the engine targets.
