"""The control loop and leadership: one tick over every known policy, actuated only by the Lease holder.

Rule: drives control's tick and hands the outcome to records/; never imports wiring/ (the runtime
builds the loop, not the other way round).

    looping   every `tick_seconds`, one Controller tick, then recording; a new leader resyncs first
    leasing   a fenced coordination.k8s.io/v1 Lease in client-go's leader-election shape
"""
