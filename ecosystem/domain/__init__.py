"""The domain: models, helix rules, NUTS codes and location resolution, municipalities, entity resolution
rules, text folding. Imports nothing else of helixmap."""
