using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Model;
using Kdump.Engine.Program;
using Kdump.Engine.Types;

namespace Kdump.Engine.Linux.Sched;

/// <summary>
/// Reads every CPU's struct rq (the per-CPU runqueues variable): rq->curr, the real-time class's priority array
/// (rt.active.queue[prio] lists of sched_rt_entity) and the fair class's rb-tree (cfs.tasks_timeline of
/// sched_entity.run_node, in vruntime order, descending into task groups' cfs_rq through se->my_q). Walks are
/// bounded and cycle-checked; a broken queue is a warning on that CPU's record.
/// </summary>
public sealed class RunQueueReader
{
    /// <summary>Upper bound on the tasks queued on one CPU.</summary>
    public const int MaxQueued = 1 << 20;
    /// <summary>Task-group nesting limit (the kernel has no hard limit; real hierarchies are a few levels deep).</summary>
    public const int MaxDepth = 32;

    private readonly KernelProgram _p;
    private readonly Vmcore? _owner;
    private readonly TaskTable? _tasks;
    private readonly KType _task, _se, _rtSe;
    private readonly ulong _rqCurr, _rqRt, _rqCfs, _rtActive, _cfsTimeline, _rqNrRunning;
    private readonly ulong? _rqClock;
    private readonly ulong _seRunNode, _seVruntime, _taskSe, _taskRt, _rtRunList, _taskPrio, _taskPid, _taskComm;
    private readonly ulong? _seMyQ, _rtMyQ;
    private readonly int _rtQueues;
    private readonly ulong _listHeadSize, _rtQueueOffset;

    public RunQueueReader(KernelProgram program, Vmcore? owner = null, TaskTable? tasks = null)
    {
        _p = program;
        _owner = owner;
        _tasks = tasks;
        var rq = program.FindType("struct rq");
        _task = program.FindType("struct task_struct");
        _se = program.FindType("struct sched_entity");
        _rtSe = program.FindType("struct sched_rt_entity");
        var rtRq = program.FindType("struct rt_rq");
        var cfsRq = program.FindType("struct cfs_rq");
        _rqCurr = KernelObject.MemberOffset(rq, "curr");
        _rqRt = KernelObject.MemberOffset(rq, "rt");
        _rqCfs = KernelObject.MemberOffset(rq, "cfs");
        _rqNrRunning = KernelObject.MemberOffset(rq, "nr_running");
        _rqClock = Opt(rq, "clock");
        _rtActive = KernelObject.MemberOffset(rtRq, "active");
        _cfsTimeline = KernelObject.MemberOffset(cfsRq, "tasks_timeline");
        _seRunNode = KernelObject.MemberOffset(_se, "run_node");
        _seVruntime = KernelObject.MemberOffset(_se, "vruntime");
        _seMyQ = Opt(_se, "my_q");
        _rtMyQ = Opt(_rtSe, "my_q");
        _rtRunList = KernelObject.MemberOffset(_rtSe, "run_list");
        _taskSe = KernelObject.MemberOffset(_task, "se");
        _taskRt = KernelObject.MemberOffset(_task, "rt");
        _taskPrio = KernelObject.MemberOffset(_task, "prio");
        _taskPid = KernelObject.MemberOffset(_task, "pid");
        _taskComm = KernelObject.MemberOffset(_task, "comm");
        var prioArray = program.FindType("struct rt_prio_array");
        if (prioArray.Resolve() is not KStructType pa || !pa.TryFindMember("queue", out var q, out _) || q.Type.Resolve() is not KArrayType qa)
            throw new KdumpException("TypeIncomplete", KdumpErrorKind.InvalidData, "struct rt_prio_array has no queue[] array in the type source.", "rt_prio_array");
        _rtQueues = (int)Math.Min(qa.Count, 1024);
        _listHeadSize = qa.Element.Size == 0 ? 16 : qa.Element.Size;
        _rtQueueOffset = KernelObject.MemberOffset(prioArray, "queue");

        static ulong? Opt(KType t, string m)
        {
            try { return KernelObject.MemberOffset(t, m); }
            catch (KdumpException) { return null; }
        }
    }

    /// <summary>The run queue of every CPU (nr_cpu_ids of them).</summary>
    public IEnumerable<CrashRunQueue> ReadAll(CancellationToken cancellation = default)
    {
        var rqVar = _p.GetSymbol("runqueues").Address;
        int n = _p.PerCpuOffsets.Count;
        for (int cpu = 0; cpu < n; cpu++)
        {
            cancellation.ThrowIfCancellationRequested();
            yield return Read(cpu, _p.PerCpuAddress(rqVar, cpu), cancellation);
        }
    }

    /// <summary>One CPU's run queue, given the address of its struct rq.</summary>
    public CrashRunQueue Read(int cpu, ulong rq, CancellationToken cancellation = default)
    {
        var warnings = new List<string>();
        ulong curr = _p.ReadU64(rq + _rqCurr);
        var queued = new List<CrashRunQueueTask>();
        ulong rtArray = rq + _rqRt + _rtActive;
        ulong cfsRoot = rq + _rqCfs + _cfsTimeline;
        try { ReadRt(cpu, rtArray, 0, queued, cancellation); }
        catch (KdumpException ex) { warnings.Add($"CPU {cpu}: the real-time queues at 0x{rtArray:x} end early: {ex.Message}"); }
        int rtCount = queued.Count;
        try { ReadCfs(cpu, cfsRoot, 0, queued, cancellation); }
        catch (KdumpException ex) { warnings.Add($"CPU {cpu}: the CFS tree at 0x{cfsRoot:x} ends early after {queued.Count - rtCount} tasks: {ex.Message}"); }
        var (pid, comm) = Identify(curr);
        return new CrashRunQueue
        {
            Vmcore = _owner, Cpu = cpu, RunQueue = rq, CurrentTask = curr, CurrentPid = pid, CurrentCommand = comm,
            Clock = _rqClock is { } co ? _p.ReadU64(rq + co) : 0,
            Running = _p.ReadU32(rq + _rqNrRunning),
            RtPrioArray = rtArray, CfsRoot = cfsRoot, Queued = queued, Warnings = warnings,
        };
    }

    private (int? Pid, string? Comm) Identify(ulong task)
    {
        if (task == 0) return (null, null);
        if (_tasks?.FindByAddress(task) is { } t) return (t.Pid, t.Command);
        try { return (unchecked((int)_p.ReadU32(task + _taskPid)), _p.ReadCString(task + _taskComm, 16)); }
        catch (KdumpException) { return (null, null); }
    }

    private CrashRunQueueTask Entry(int cpu, string cls, ulong task, ulong queue, int depth, ulong? vruntime)
    {
        var (pid, comm) = Identify(task);
        return new CrashRunQueueTask
        {
            Vmcore = _owner, Cpu = cpu, Class = cls, Task = task, Queue = queue, Depth = depth, VRuntime = vruntime,
            Pid = pid ?? 0, Command = comm ?? "", Priority = unchecked((int)_p.ReadU32(task + _taskPrio)),
        };
    }

    private void ReadRt(int cpu, ulong prioArray, int depth, List<CrashRunQueueTask> into, CancellationToken cancellation)
    {
        if (depth > MaxDepth) throw new KdumpException("RunQueueTooDeep", KdumpErrorKind.LimitExceeded, $"Real-time group queues nest deeper than {MaxDepth}.", prioArray);
        for (int prio = 0; prio < _rtQueues; prio++)
        {
            ulong head = prioArray + _rtQueueOffset + (ulong)prio * _listHeadSize;
            foreach (var node in _p.ListForEach(head, MaxQueued))
            {
                cancellation.ThrowIfCancellationRequested();
                ulong rtSe = node - _rtRunList;
                ulong myQ = _rtMyQ is { } mq ? _p.ReadU64(rtSe + mq) : 0;
                if (myQ != 0) { ReadRt(cpu, myQ + _rtActive, depth + 1, into, cancellation); continue; }
                if (into.Count >= MaxQueued) throw new KdumpException("ListTooLong", KdumpErrorKind.LimitExceeded, $"More than {MaxQueued} queued tasks.", prioArray);
                into.Add(Entry(cpu, "RT", rtSe - _taskRt, prioArray, depth, null));
            }
        }
    }

    private void ReadCfs(int cpu, ulong root, int depth, List<CrashRunQueueTask> into, CancellationToken cancellation)
    {
        if (depth > MaxDepth) throw new KdumpException("RunQueueTooDeep", KdumpErrorKind.LimitExceeded, $"CFS group queues nest deeper than {MaxDepth}.", root);
        foreach (var node in _p.RbTreeInOrder(root, MaxQueued))
        {
            cancellation.ThrowIfCancellationRequested();
            ulong se = node - _seRunNode;
            ulong myQ = _seMyQ is { } mq ? _p.ReadU64(se + mq) : 0;
            if (myQ != 0) { ReadCfs(cpu, myQ + _cfsTimeline, depth + 1, into, cancellation); continue; }
            if (into.Count >= MaxQueued) throw new KdumpException("ListTooLong", KdumpErrorKind.LimitExceeded, $"More than {MaxQueued} queued tasks.", root);
            into.Add(Entry(cpu, "CFS", se - _taskSe, root, depth, _p.ReadU64(se + _seVruntime)));
        }
    }
}
