"""Records: create, read, update, delete (to the recycle bin), restore, history and
query, for every object, through one service (``RecordService``)."""
