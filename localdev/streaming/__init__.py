"""The local streaming harness: the streaming pipeline as a child process on the DirectRunner,
a steady feed to the Pub/Sub emulator, and polls of what has landed in BigQuery. Local tooling
only: ``make stream`` (:mod:`localdev.live_stream`), ``make soak`` (:mod:`localdev.soak`), the
fault and Storage Write tests (their test-only feed of events is ``tests/streaming_feed.py``).

Which module holds what:

- :mod:`~localdev.streaming.harness`: :class:`StreamingPipeline` (the child, started, stopped
  and killed by its pid, with its status file), :func:`pipeline_argv` (the options of a local
  streaming run), :func:`drain` / :func:`accounted` (has it read, written and archived all?).
- :mod:`~localdev.streaming.child`: the child process itself
  (``python -m localdev.streaming.child``): runs ``pipeline.main`` in streaming mode and
  rewrites its Beam counters to the status file.
- :mod:`~localdev.streaming.direct_runner`: every change made to Beam's DirectRunner in the
  child (:class:`RunnerAdaptation`), each with the Beam behaviour it works around; it refuses
  to run on another Beam version than the one it was written for.
- :mod:`~localdev.streaming.publishing`: :class:`SteadyPublisher` (publish at a steady rate)
  and :class:`Outcomes` (what the pipeline must make of generated messages).
- :mod:`~localdev.streaming.polls`: what BigQuery holds (:func:`landed`, :func:`held`,
  :func:`visible_ids`) and :func:`wait_until`.
- :mod:`~localdev.streaming.checkpoints`: :class:`Checkpoints` (Pub/Sub snapshots, to restart a
  killed pipeline without losing what it had in flight) and :func:`create_subscription`.
- :mod:`~localdev.streaming.processes`: resident memory and process trees from /proc.
"""
