"""The market's actors: vectorised books of state plus thin Mesa agent views."""
