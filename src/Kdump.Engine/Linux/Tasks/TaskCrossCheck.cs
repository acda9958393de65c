using Kdump.Engine.Dump;
using Kdump.Engine.Program;

namespace Kdump.Engine.Linux.Tasks;

/// <summary>
/// Cheap consistency checks of a freshly walked task list against what the kernel itself counts, so a damaged dump
/// (a flipped bitmap bit, a corrupt page, a wrong header field) cannot silently change the answer: the dump's own
/// problems, the per-CPU idle tasks against the CPU count, every task's sanity (pid range, printable comm, only idle
/// tasks with pid 0, task->thread_pid naming the same pid, the tasks list's back pointers), and the kernel's
/// nr_threads and init_pid_ns.pid_allocated against the tasks counted. Disagreements become warnings that say the
/// list may be partial or wrong. Costs one small read per task and thread group, on pages the walk already cached.
/// </summary>
internal static class TaskCrossCheck
{
    /// <summary>The kernel's PID_MAX_LIMIT (4M on 64-bit).</summary>
    private const int PidMaxLimit = 4 * 1024 * 1024;
    /// <summary>init_pid_ns.pid_allocated's PIDNS_ADDING flag (set while the namespace accepts new pids).</summary>
    private const uint PidnsAdding = 0x80000000;
    /// <summary>Examples named per kind of disagreement.</summary>
    private const int Examples = 3;

    public static void Run(KernelProgram p, TaskLayout layout, IReadOnlyList<TaskReader.RawTask> raws, ulong initTask,
        IReadOnlyList<ulong> idle, IReadOnlyList<ulong> leaders, bool listComplete, List<string> warnings)
    {
        const string Partial = "the task list may be partial or wrong";
        var found = new List<string>();

        // 1. The dump itself is known to be damaged.
        if (p.Memory is DumpFile d && (d.Incomplete || d.Problems.Count > 0))
        {
            string what = d.Problems.Count > 0 ? string.Join("; ", d.Problems) : $"it is incomplete ({d.LostPages} pages lost)";
            found.Add($"The dump is damaged ({what}): {Partial}.");
        }

        // 2. One idle task per possible CPU, each with pid 0, none shared.
        var idleSet = new HashSet<ulong>();
        var missingIdle = new List<int>();
        for (int cpu = 0; cpu < idle.Count; cpu++)
        {
            if (idle[cpu] == 0) missingIdle.Add(cpu);
            else if (!idleSet.Add(idle[cpu])) found.Add($"CPUs share the idle task 0x{idle[cpu]:x} (CPU {cpu}): {Partial}.");
        }
        if (missingIdle.Count > 0 && missingIdle.Count < idle.Count)
            found.Add($"{missingIdle.Count} of {idle.Count} CPUs have no idle task (CPU {string.Join(", ", missingIdle.Take(Examples))}): {Partial}.");

        // 3. Every task read: sane pid, tgid and comm; pid 0 only for idle tasks; thread_pid agrees.
        ulong? threadPid = OptionalOffset(layout, "thread_pid");
        ulong? pidNr = threadPid is null ? null : PidNumbersOffset(p);
        var badPid = new List<string>();
        var badComm = new List<string>();
        var phantomIdle = new List<string>();
        var pidMismatch = new List<string>();
        var pids = new HashSet<int>();
        var duplicatePids = new List<int>();
        int threads = 0;
        foreach (var r in raws)
        {
            bool isIdle = r.Address == initTask || idleSet.Contains(r.Address);
            if (isIdle)
            {
                if (r.Pid != 0) badPid.Add($"idle task 0x{r.Address:x} has pid {r.Pid}");
                continue;
            }
            threads++;
            if (r.Pid <= 0 || r.Pid > PidMaxLimit || r.Tgid <= 0 || r.Tgid > PidMaxLimit)
            {
                if (r.Pid == 0) phantomIdle.Add($"0x{r.Address:x} \"{r.Comm}\"");
                else badPid.Add($"task 0x{r.Address:x} has pid {r.Pid}, tgid {r.Tgid}");
            }
            else if (!pids.Add(r.Pid)) duplicatePids.Add(r.Pid);
            if (r.Comm.Length == 0 || r.Comm.Any(c => c < 0x20 || c == 0x7f || c == '\uFFFD'))
                badComm.Add($"0x{r.Address:x} (pid {r.Pid})");
            if (threadPid is { } tp && pidNr is not null && r.Pid > 0)
            {
                try
                {
                    ulong pid = p.ReadU64(r.Address + tp);
                    if (pid != 0 && pidNr is { } nrOff)
                    {
                        int nr = unchecked((int)p.ReadU32(pid + nrOff));
                        if (nr != r.Pid) pidMismatch.Add($"0x{r.Address:x} has pid {r.Pid} but its struct pid says {nr}");
                    }
                }
                catch (KdumpException ex) { pidMismatch.Add($"0x{r.Address:x} (pid {r.Pid}): {ex.ErrorId}"); }
            }
        }
        if (phantomIdle.Count > 0) found.Add($"{phantomIdle.Count} tasks with pid 0 are not idle tasks ({string.Join(", ", phantomIdle.Take(Examples))}): {Partial}.");
        if (badPid.Count > 0) found.Add($"{badPid.Count} tasks have impossible pids ({string.Join("; ", badPid.Take(Examples))}): {Partial}.");
        if (duplicatePids.Count > 0) found.Add($"{duplicatePids.Count} pids belong to more than one task ({string.Join(", ", duplicatePids.Take(Examples))}): {Partial}.");
        if (badComm.Count > 0) found.Add($"{badComm.Count} tasks have an empty or unprintable command name ({string.Join(", ", badComm.Take(Examples))}): {Partial}.");
        if (pidMismatch.Count > 0) found.Add($"{pidMismatch.Count} tasks disagree with their struct pid ({string.Join("; ", pidMismatch.Take(Examples))}): {Partial}.");

        // 4. The tasks list's back pointers: each group leader's tasks.prev is the node before it.
        if (listComplete && leaders.Count > 0)
        {
            var broken = new List<string>();
            ulong prevNode = initTask + layout.Tasks;
            try
            {
                foreach (var leader in leaders)
                {
                    ulong node = leader + layout.Tasks;
                    ulong prev = p.ReadU64(node + 8);
                    if (prev != prevNode && broken.Count < Examples) broken.Add($"0x{leader:x}");
                    else if (prev != prevNode) broken.Add("");
                    prevNode = node;
                }
                if (p.ReadU64(initTask + layout.Tasks + 8) != prevNode) broken.Add("init_task");
            }
            catch (KdumpException ex) { broken.Add(ex.ErrorId); }
            if (broken.Count > 0)
                found.Add($"The task list's back pointers disagree with its forward pointers at {broken.Count} tasks ({string.Join(", ", broken.Where(b => b.Length > 0).Take(Examples))}): {Partial}.");
        }

        // 5. The kernel's own counts: nr_threads (every task but the idle tasks) and the pids allocated.
        if (listComplete)
        {
            try
            {
                if (p.FindSymbol("nr_threads") is { } nt)
                {
                    int nr = unchecked((int)p.ReadU32(nt.Address));
                    if (nr != threads)
                        found.Add($"The kernel counts {nr} threads (nr_threads) but {threads} were found: {Partial}.");
                }
            }
            catch (KdumpException ex) { found.Add($"nr_threads cannot be read ({ex.ErrorId}): the task count is not verified."); }
            try
            {
                if (p.FindSymbol("init_pid_ns") is { } ns && p.TryFindType("struct pid_namespace") is { } nsType)
                {
                    ulong off = KernelObject.MemberOffset(nsType, "pid_allocated");
                    uint allocated = p.ReadU32(ns.Address + off) & ~PidnsAdding;
                    if (pids.Count > allocated)
                        found.Add($"{pids.Count} distinct pids were found but the kernel has allocated only {allocated} (init_pid_ns.pid_allocated): {Partial}.");
                }
            }
            catch (KdumpException) { /* older kernels have no pid_allocated: nothing to compare */ }
        }
        warnings.AddRange(found);
    }

    private static ulong? OptionalOffset(TaskLayout layout, string member)
    {
        try { return KernelObject.MemberOffset(layout.TaskType, member); }
        catch (KdumpException) { return null; }
    }

    /// <summary>offsetof(struct pid, numbers[0].nr), or null when the type is unknown.</summary>
    private static ulong? PidNumbersOffset(KernelProgram p)
    {
        try { return p.TryFindType("struct pid") is { } t ? KernelObject.MemberOffset(t, "numbers") : null; }
        catch (KdumpException) { return null; }
    }
}
