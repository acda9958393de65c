namespace Kdump.Engine.Model;

/// <summary>
/// One CPU's run queue at the crash, as crash's <c>runq</c> shows it: the running task, then the tasks queued on
/// its real-time priority arrays and its CFS red-black tree (task groups' queues included).
/// </summary>
public sealed class CrashRunQueue : DumpRecord
{
    public int Cpu { get; init; }
    /// <summary>The address of this CPU's struct rq (crash's RUNQUEUE).</summary>
    public KernelAddress RunQueue { get; init; }
    /// <summary>rq->clock at the crash (ns since boot).</summary>
    public ulong Clock { get; init; }
    /// <summary>rq->nr_running.</summary>
    public uint Running { get; init; }
    public int? CurrentPid { get; init; }
    /// <summary>rq->curr: the task running on this CPU (crash's CURRENT).</summary>
    public KernelAddress CurrentTask { get; init; }
    public string? CurrentCommand { get; init; }
    /// <summary>The address of rq->rt.active (crash's RT PRIO_ARRAY).</summary>
    public KernelAddress RtPrioArray { get; init; }
    /// <summary>The address of rq->cfs.tasks_timeline (crash's CFS RB_ROOT).</summary>
    public KernelAddress CfsRoot { get; init; }
    /// <summary>The queued tasks (not the current one): real-time first by priority, then CFS by vruntime.</summary>
    public IReadOnlyList<CrashRunQueueTask> Queued { get; init; } = Array.Empty<CrashRunQueueTask>();
    /// <summary>What could not be read (a broken list or tree); the tasks found before it are kept.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = Array.Empty<string>();

    public int RtQueued => Queued.Count(t => t.Class == "RT");
    public int CfsQueued => Queued.Count(t => t.Class == "CFS");
    public override string ToString() => $"CPU {Cpu} RUNQUEUE: {RunQueue:x}  CURRENT: PID {CurrentPid} \"{CurrentCommand}\"  queued {Queued.Count}";
}

/// <summary>A task waiting on a CPU's run queue (Get-CrashRunQueue -Queued, crash's runq lines).</summary>
public sealed class CrashRunQueueTask : DumpRecord
{
    public int Cpu { get; init; }
    /// <summary>"RT" (rt_prio_array) or "CFS" (the fair class's rb-tree).</summary>
    public string Class { get; init; } = "";
    /// <summary>task_struct.prio (crash's [prio]).</summary>
    public int Priority { get; init; }
    public int Pid { get; init; }
    /// <summary>The address of the task_struct.</summary>
    public KernelAddress Task { get; init; }
    public string Command { get; init; } = "";
    /// <summary>The queue the task sits on: the rt_prio_array, or the cfs_rq's rb_root (a task group's for nested ones).</summary>
    public KernelAddress Queue { get; init; }
    /// <summary>Nesting below the CPU's root queue (0: root; 1: a task group's queue ...).</summary>
    public int Depth { get; init; }
    /// <summary>CFS: se.vruntime; null for real-time tasks.</summary>
    public ulong? VRuntime { get; init; }
    public override string ToString() => $"[{Priority,3}] PID: {Pid,-6} TASK: {Task:x16}  COMMAND: \"{Command}\"";
}
