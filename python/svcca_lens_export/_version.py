"""The writer's version (recorded in every manifest); follows the app's package.json."""

__version__ = "0.1.0"
