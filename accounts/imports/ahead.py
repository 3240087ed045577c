"""Reading and checking a placement file one chunk ahead of the writer, in a forked
child process: the file's rows are parsed and validated on one core while this process
matches and writes the previous chunk through the database on the other.

The child only reads the file and checks rows (`RowChecker.rows`): it never touches the
database, the cache or anything else it inherited, and it ends with the chunks (or with
the first exception, which is raised here as if the rows had been read in this
process). The pipe holds at most about one chunk, so memory stays flat. The child is
ended whenever the reader stops early (a failed write, a crash): nothing it does
outlives the import.
"""

import contextlib
import itertools
import multiprocessing
import os
import signal
import traceback

from accounts.imports.reader import FileProblem
from accounts.imports.validation import Row


def _chunks(iterable, size):
    iterator = iter(iterable)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _produce(rows, size, sender, prepare):
    try:
        for chunk in _chunks(rows, size):
            for row in chunk:
                if row.ok:
                    if prepare is not None:
                        prepare(row)
            # A good row travels as a plain tuple (less pickling than a Row): the writer
            # reads its values and what was prepared; its cells go along, since the
            # parent's duplicate check can still reject it, and a rejected row is written
            # to the rejected file as it was read.
            sender.send(
                ("chunk", [(r.line, r.values, r.prepared, r.cells) if r.ok else r for r in chunk])
            )
        sender.send(("done", None))
    except FileProblem as exc:
        sender.send(("problem", str(exc)))
    except BaseException:  # noqa: BLE001 - reported to the parent, which fails the import
        sender.send(("error", traceback.format_exc()))
    finally:
        sender.close()


class ReaderFailed(RuntimeError):
    """The child reading the file failed; the message is its traceback."""


def _receive(receiver):
    while True:
        try:
            kind, payload = receiver.recv()
        except EOFError as exc:
            raise ReaderFailed("the process reading the file ended without a word") from exc
        if kind == "chunk":
            yield [
                Row(line=r[0], cells=r[3], values=r[1], prepared=r[2]) if type(r) is tuple else r
                for r in payload
            ]
        elif kind == "done":
            return
        elif kind == "problem":
            raise FileProblem(payload)
        else:
            raise ReaderFailed(payload)


@contextlib.contextmanager
def chunks_ahead(rows, size, prepare=None):
    """Lists of up to `size` checked rows of the iterable `rows`, produced in a forked
    child process (`rows` must not have been started, and is never read here), each good
    row passed to `prepare` there first.

    A bare `os.fork`, not `multiprocessing.Process`: imports run inside Celery's prefork
    workers, which are daemonic, and multiprocessing refuses to start a child there."""
    receiver, sender = multiprocessing.Pipe(duplex=False)
    pid = os.fork()
    if pid == 0:  # the child: read, check, send, and leave without running any cleanup
        code = 0
        try:
            receiver.close()
            _produce(rows, size, sender, prepare)
        except BaseException:  # noqa: BLE001 - the parent sees the pipe end
            code = 1
        finally:
            os._exit(code)
    sender.close()
    try:
        yield _receive(receiver)
    finally:
        receiver.close()
        # Done (it is exiting) or stopped early (its rows are no longer wanted).
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
