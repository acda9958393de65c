using Kdump.Engine.Program;

namespace Kdump.Engine.Linux.Tasks;

/// <summary>Reads the fields ps needs from one task_struct, and a thread group's threads.</summary>
internal sealed class TaskReader
{
    public const uint PF_KTHREAD = 0x00200000;

    private readonly KernelProgram _p;
    private readonly TaskLayout _l;
    private readonly List<string> _warnings;

    public TaskReader(KernelProgram p, TaskLayout layout, List<string> warnings) { _p = p; _l = layout; _warnings = warnings; }

    public sealed record RawTask(ulong Address, int Pid, int Tgid, int Ppid, ulong Parent, ulong GroupLeader, int Cpu, ulong State,
        int ExitState, uint Flags, ulong Mm, string Comm, string? Problem)
    {
        /// <summary>Scheduler and accounting fields (ps -l / ps -t), when the layout has them.</summary>
        public TaskSchedTimes? Sched { get; init; }
    }

    /// <summary>Bytes from the start of task_struct up to the end of the last field <see cref="Read"/> uses.</summary>
    private ulong UsedSpan => new[]
    {
        _l.State + (ulong)_l.StateSize, _l.Comm + (ulong)_l.CommLength, _l.RealParent + 8, _l.Pid + 4, _l.Tgid + 4, _l.GroupLeader + 8,
        (_l.Cpu ?? 0) + 4, _l.ExitState + 4, _l.Flags + 4, _l.Mm + 8,
    }.Max();

    /// <summary>The task's fields, or null (with a warning) when its task_struct cannot be read.</summary>
    public RawTask? Read(ulong task)
    {
        byte[] b;
        try
        {
            if (_l.Size > 1 << 20) throw new KdumpException("TypeTooLarge", KdumpErrorKind.LimitExceeded, $"struct task_struct is {_l.Size} bytes.", _l.Size);
            // only the span of the fields read here: the rest of a task_struct (thread/FPU state at its end, 7-9 KiB
            // in) may lie in a page the dump left out (makedumpfile 1.7.2's -d 31 did that to a 6.1 capture), and crash
            // lists such a task too
            b = _p.ReadKernel(task, (int)Math.Min(_l.Size, UsedSpan));
        }
        catch (KdumpException ex)
        {
            _warnings.Add($"Task 0x{task:x} cannot be read: {ex.Message}");
            return null;
        }
        int I32(ulong off) => BitConverter.ToInt32(b, (int)off);
        ulong U64(ulong off) => BitConverter.ToUInt64(b, (int)off);
        ulong state = _l.StateSize == 4 ? (uint)I32(_l.State) : U64(_l.State);
        int commEnd = Array.IndexOf(b, (byte)0, (int)_l.Comm, _l.CommLength);
        string comm = System.Text.Encoding.UTF8.GetString(b, (int)_l.Comm, (commEnd < 0 ? (int)_l.Comm + _l.CommLength : commEnd) - (int)_l.Comm);
        ulong parent = U64(_l.RealParent);
        int ppid = 0;
        string? problem = null;
        if (parent != 0 && parent != task)
        {
            try { ppid = unchecked((int)_p.ReadU32(parent + _l.Pid)); }
            catch (KdumpException ex) { problem = $"parent 0x{parent:x}: {ex.Message}"; }
        }
        ulong? O64(ulong? off) => off is { } o && o + 8 <= (ulong)b.Length ? U64(o) : null;
        int? O32(ulong? off) => off is { } o && o + 4 <= (ulong)b.Length ? I32(o) : null;
        var sched = new TaskSchedTimes(O64(_l.LastArrival), O64(_l.StartTime), O64(_l.UTime), O64(_l.STime), O64(_l.SumExecRuntime),
            O32(_l.Policy) is { } pol ? (uint)pol : null, O32(_l.Prio), O32(_l.StaticPrio), O32(_l.RtPriority) is { } rp ? (uint)rp : null);
        return new RawTask(task, I32(_l.Pid), I32(_l.Tgid), ppid, parent, U64(_l.GroupLeader), _l.Cpu is { } c ? I32(c) : 0, state,
            I32(_l.ExitState), (uint)I32(_l.Flags), U64(_l.Mm), comm, problem) { Sched = sched };
    }

    /// <summary>The other threads of a thread group (not the leader), ending early with a warning on a bad list.</summary>
    public List<ulong> Threads(ulong leader)
    {
        var list = new List<ulong>();
        try
        {
            if (_l.SignalThreadHead is { } head && _l.ThreadNode is { } node)
            {
                ulong signal = _p.ReadU64(leader + _l.Signal);
                if (signal == 0) return list;
                foreach (var n in _p.ListForEach(signal + head, TaskTable.MaxTasks))
                    if (n - node != leader) list.Add(n - node);
            }
            else if (_l.ThreadGroup is { } tg)
            {
                foreach (var n in _p.ListForEach(leader + tg, TaskTable.MaxTasks)) list.Add(n - tg);
            }
        }
        catch (KdumpException ex) { _warnings.Add($"The threads of task 0x{leader:x} end early after {list.Count}: {ex.Message}"); }
        return list;
    }
}

/// <summary>A task's scheduler fields as read (nanoseconds; null when the kernel's layout lacks the member).</summary>
internal sealed record TaskSchedTimes(ulong? LastArrival, ulong? StartTime, ulong? UserTime, ulong? SystemTime, ulong? SumExecRuntime,
    uint? Policy, int? Prio, int? StaticPrio, uint? RtPriority);
