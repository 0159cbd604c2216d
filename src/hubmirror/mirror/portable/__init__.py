"""Content carried across networks: ``sync`` ahead of time, bundles exported and imported,
huggingface_hub caches imported and exported, and the selection of REPO@REV they share."""
