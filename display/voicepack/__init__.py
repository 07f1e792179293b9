"""Voice packs: `default/` ships with motcua; `build_pack` regenerates it with espeak-ng."""
