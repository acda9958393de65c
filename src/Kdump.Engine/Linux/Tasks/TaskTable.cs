using Kdump.Engine.Model;
using Kdump.Engine.Program;

namespace Kdump.Engine.Linux.Tasks;

/// <summary>
/// Every task of the crashed kernel (crash's task table): the per-CPU idle tasks (runqueues.idle), every thread
/// group on init_task.tasks and every thread of each group (signal->thread_head on Linux ≥ 6.1's layout, else the
/// thread_group ring), sorted like crash's ps (pid, then CPU for the idle tasks). Built once per program and cached;
/// a walk that loops or runs into unreadable memory ends early with a warning (<see cref="Warnings"/>) and keeps
/// the tasks found so far.
/// </summary>
public sealed class TaskTable
{
    /// <summary>Upper bound on the tasks of one dump (the kernel's PID_MAX_LIMIT is 4M).</summary>
    public const int MaxTasks = 4 * 1024 * 1024;

    private readonly Dictionary<ulong, CrashProcess> _byAddress = new();
    private readonly Dictionary<int, List<CrashProcess>> _byPid = new();

    public KernelProgram Program { get; }
    /// <summary>All tasks in crash's ps order.</summary>
    public IReadOnlyList<CrashProcess> Tasks { get; }
    /// <summary>What went wrong while walking (loops, unreadable tasks); the table holds what was found.</summary>
    public IReadOnlyList<string> Warnings { get; }
    /// <summary>Per CPU (index = CPU number): the task running there at the crash (runqueues.curr), 0 when unknown.</summary>
    public IReadOnlyList<ulong> ActiveTasks { get; }
    /// <summary>Per CPU: the idle task (runqueues.idle), 0 when unknown.</summary>
    public IReadOnlyList<ulong> IdleTasks { get; }
    /// <summary>Per CPU: the run queue's clock (rq->clock, ns since boot) at the crash, 0 when unknown.</summary>
    public IReadOnlyList<ulong> RunQueueClocks { get; }
    /// <summary>Time since boot at the crash (ns, by jiffies and HZ; the timekeeper's when HZ is unknown), or null.</summary>
    public ulong? BootNanoseconds { get; }
    /// <summary>The CPU that panicked (panic_cpu, else the dump header's), or null.</summary>
    public int? PanicCpu { get; }
    /// <summary>The task running on the panic CPU, or null.</summary>
    public CrashProcess? PanicTask { get; }
    /// <summary>The page count crash divides RSS by for %MEM (spanned pages of all memory nodes, else totalram_pages).</summary>
    public ulong TotalPages { get; }
    public TaskStates States { get; }

    /// <summary>
    /// The task table of a program, built on first use (thread-safe) and kept in the program's
    /// <see cref="KernelProgram.Caches"/>. The table is the same whoever asks first: its tasks name the program's
    /// <see cref="KernelProgram.Owner"/> and the panic CPU comes from panic_cpu, else that dump's header.
    /// <paramref name="owner"/> binds an ownerless program to its dump (a different dump than the program's is an error);
    /// <paramref name="panicCpuHint"/> is accepted for compatibility and not used (it would make the answer depend on the caller).
    /// </summary>
    public static TaskTable Get(KernelProgram program, Vmcore? owner = null, int? panicCpuHint = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (owner is not null) program.Owner = owner;
        return program.Caches.Tasks.GetOrCreate(() => new TaskTable(program, program.Owner, program.Owner?.PanicCpu, cancellation));
    }

    /// <summary>Builds a fresh table (no caching), for tests and live sources.</summary>
    public static TaskTable Build(KernelProgram program, Vmcore? owner = null, int? panicCpuHint = null, CancellationToken cancellation = default)
        => new(program, owner ?? program.Owner, panicCpuHint ?? (owner ?? program.Owner)?.PanicCpu, cancellation);

    private TaskTable(KernelProgram p, Vmcore? owner, int? panicCpuHint, CancellationToken cancellation)
    {
        Program = p;
        var warnings = new List<string>();
        States = TaskStates.FromKernel(p);
        if (!States.Source.StartsWith("task_state_array", StringComparison.Ordinal)) warnings.Add($"Task state bits from the {States.Source}.");
        var layout = new TaskLayout(p);
        var reader = new TaskReader(p, layout, warnings);

        // per-CPU run queues: curr and idle
        int ncpu = p.PerCpuOffsets.Count;
        var active = new ulong[ncpu];
        var idle = new ulong[ncpu];
        var clocks = new ulong[ncpu];
        try
        {
            var rq = p.Variable("runqueues");
            ulong currOff = KernelObject.MemberOffset(rq.Type, "curr"), idleOff = KernelObject.MemberOffset(rq.Type, "idle");
            ulong? clockOff = rq.HasMember("clock") ? KernelObject.MemberOffset(rq.Type, "clock") : null;
            for (int cpu = 0; cpu < ncpu; cpu++)
            {
                try
                {
                    ulong a = p.PerCpuAddress(rq.Address, cpu);
                    active[cpu] = p.ReadU64(a + currOff);
                    idle[cpu] = p.ReadU64(a + idleOff);
                    if (clockOff is { } co) clocks[cpu] = p.ReadU64(a + co);
                }
                catch (KdumpException ex) { warnings.Add($"CPU {cpu}: cannot read its run queue: {ex.Message}"); }
            }
        }
        catch (KdumpException ex) { warnings.Add($"Cannot read the per-CPU run queues (active and idle tasks): {ex.Message}"); }
        ActiveTasks = active;
        IdleTasks = idle;
        RunQueueClocks = clocks;
        // the clock only feeds RunTime; a kernel whose jiffies cannot be read still has a full task table
        try { BootNanoseconds = Sched.KernelClock.Read(p).UptimeNanoseconds; }
        catch (KdumpException) { BootNanoseconds = null; }

        // the task addresses: idle tasks, then init_task.tasks and each group's threads
        var addresses = new List<ulong>();
        var seen = new HashSet<ulong>();
        ulong initTask = p.GetSymbol("init_task").Address;
        void Add(ulong a) { if (a != 0 && seen.Count < MaxTasks && seen.Add(a)) addresses.Add(a); }
        Add(initTask);
        foreach (var a in idle) Add(a);
        var leaders = new List<ulong>();
        bool listComplete = true;
        try
        {
            foreach (var node in p.ListForEach(initTask + layout.Tasks, MaxTasks))
            {
                cancellation.ThrowIfCancellationRequested();
                ulong t = node - layout.Tasks;
                Add(t);
                leaders.Add(t);
            }
        }
        catch (KdumpException ex) { listComplete = false; warnings.Add($"The task list (init_task.tasks) ends early after {leaders.Count} thread groups: {ex.Message}"); }
        foreach (var leader in leaders)
        {
            foreach (var th in reader.Threads(leader)) Add(th);
        }

        // read each task
        var tasks = new List<CrashProcess>(addresses.Count);
        var raws = new List<TaskReader.RawTask>(addresses.Count);
        foreach (var a in addresses)
        {
            cancellation.ThrowIfCancellationRequested();
            if (reader.Read(a) is { } raw) raws.Add(raw);
        }

        TaskCrossCheck.Run(p, layout, raws, initTask, idle, leaders, listComplete, warnings);

        // memory: mm counters plus every thread's unsynced deltas
        TotalPages = SystemPages.Spanned(p, warnings);
        var rssByMm = new Dictionary<ulong, (long Rss, ulong TotalVm, string? Problem)>();
        MemoryCounters? counters = null;
        try { counters = new MemoryCounters(p, layout); }
        catch (KdumpException ex) { warnings.Add($"Cannot read memory counters: {ex.Message}"); }
        if (counters is not null)
        {
            foreach (var r in raws)
            {
                if (r.Mm == 0 || rssByMm.ContainsKey(r.Mm)) continue;
                try { rssByMm[r.Mm] = (counters.MmRssPages(r.Mm), counters.TotalVmPages(r.Mm), null); }
                catch (KdumpException ex) { rssByMm[r.Mm] = (0, 0, $"mm 0x{r.Mm:x}: {ex.Message}"); }
            }
            foreach (var r in raws)
            {
                if (r.Mm == 0 || !rssByMm.TryGetValue(r.Mm, out var v) || v.Problem is not null) continue;
                try { rssByMm[r.Mm] = (v.Rss + counters.TaskRssPages(r.Address), v.TotalVm, null); }
                catch (KdumpException) { /* the task itself was readable; its cache line is not: keep the mm's count */ }
            }
        }
        ulong pageKiB = (ulong)Math.Max(1, p.PageSize / 1024);
        var activeSet = new HashSet<ulong>(active.Where(a => a != 0));
        // panic_cpu when it names a CPU, else the dump header's
        int? panicCpu = ReadPanicCpu(p);
        if (panicCpu is not { } pc0 || pc0 >= ncpu) panicCpu = panicCpuHint;
        if (panicCpu is { } pc && (pc < 0 || pc >= ncpu)) panicCpu = null;
        PanicCpu = panicCpu;
        ulong panicTask = panicCpu is { } c ? active[c] : 0;

        foreach (var r in raws)
        {
            long rssPages = 0; ulong totalVm = 0; string? problem = r.Problem;
            if (r.Mm != 0 && rssByMm.TryGetValue(r.Mm, out var mv)) { rssPages = Math.Max(0, mv.Rss); totalVm = mv.TotalVm; problem ??= mv.Problem; }
            bool isIdle = r.Pid == 0 && (r.Address == initTask || idle.Contains(r.Address));
            var proc = new CrashProcess
            {
                Vmcore = owner,
                // crash shows the idle tasks as children of nobody (ppid 0) and of swapper/0 (ps -p), though the
                // secondary CPUs' idle tasks were forked by init.
                Pid = r.Pid, Tgid = r.Tgid, Ppid = isIdle ? 0 : r.Ppid, Cpu = r.Cpu, Task = r.Address,
                StateValue = r.State, ExitState = r.ExitState, State = States.Letters(r.State, r.ExitState), Flags = r.Flags,
                Command = r.Comm, Mm = r.Mm, ParentTask = isIdle ? (r.Address == initTask ? 0 : initTask) : r.Parent, GroupLeader = r.GroupLeader,
                IsKernelThread = (r.Flags & TaskReader.PF_KTHREAD) != 0 || r.Mm == 0,
                IsIdle = isIdle,
                IsActive = activeSet.Contains(r.Address),
                IsPanicTask = panicTask != 0 && r.Address == panicTask,
                Rss = (ulong)rssPages * pageKiB,
                Vsz = totalVm * pageKiB,
                MemoryPercent = TotalPages == 0 ? 0 : Math.Round(rssPages * 100.0 / TotalPages, 1, MidpointRounding.AwayFromZero),
                Problem = problem,
                LastArrival = r.Sched?.LastArrival,
                StartTime = r.Sched?.StartTime,
                UserTime = r.Sched?.UserTime,
                SystemTime = r.Sched?.SystemTime,
                SumExecRuntime = r.Sched?.SumExecRuntime,
                PolicyValue = r.Sched?.Policy,
                Priority = r.Sched?.Prio,
                StaticPriority = r.Sched?.StaticPrio,
                RtPriority = r.Sched?.RtPriority,
                BootTime = BootNanoseconds,
                RunQueueClock = r.Cpu >= 0 && r.Cpu < ncpu && clocks[r.Cpu] != 0 ? clocks[r.Cpu] : null,
            };
            tasks.Add(proc);
        }
        tasks.Sort((a, b) => a.Pid != b.Pid ? a.Pid.CompareTo(b.Pid) : a.Cpu != b.Cpu ? a.Cpu.CompareTo(b.Cpu) : a.Task.CompareTo(b.Task));
        foreach (var t in tasks)
        {
            _byAddress[t.Task] = t;
            if (!_byPid.TryGetValue(t.Pid, out var l)) _byPid[t.Pid] = l = new List<CrashProcess>(1);
            l.Add(t);
        }
        Tasks = tasks;
        PanicTask = panicTask != 0 && _byAddress.TryGetValue(panicTask, out var pt) ? pt : null;
        Warnings = warnings;
    }

    private static int? ReadPanicCpu(KernelProgram p)
    {
        try
        {
            if (p.FindSymbol("panic_cpu") is not { } s) return null;
            int v = unchecked((int)p.ReadU32(s.Address));
            return v >= 0 ? v : null;
        }
        catch (KdumpException) { return null; }
    }

    /// <summary>The task whose task_struct is at <paramref name="task"/>, or null.</summary>
    public CrashProcess? FindByAddress(ulong task) => _byAddress.TryGetValue(task, out var t) ? t : null;

    /// <summary>The tasks with this pid (several for pid 0: one idle task per CPU).</summary>
    public IReadOnlyList<CrashProcess> FindByPid(int pid) => _byPid.TryGetValue(pid, out var l) ? l : Array.Empty<CrashProcess>();

    /// <summary>The task running on <paramref name="cpu"/> at the crash, or null.</summary>
    public CrashProcess? ActiveTask(int cpu) => cpu >= 0 && cpu < ActiveTasks.Count ? FindByAddress(ActiveTasks[cpu]) : null;

    /// <summary>The threads of the process <paramref name="tgid"/>.</summary>
    public IEnumerable<CrashProcess> ThreadsOf(int tgid) => Tasks.Where(t => t.Tgid == tgid && !t.IsIdle);

    /// <summary>The chain of parents from the task up to pid 0 (crash's ps -p), the task last.</summary>
    public IReadOnlyList<CrashProcess> Ancestry(CrashProcess task)
    {
        var chain = new List<CrashProcess> { task };
        var seen = new HashSet<ulong> { task.Task };
        var cur = task;
        while (cur.ParentTask != 0 && FindByAddress(cur.ParentTask) is { } parent && seen.Add(parent.Task))
        {
            chain.Add(parent);
            cur = parent;
        }
        chain.Reverse();
        return chain;
    }

    /// <summary>The children of a task (crash's ps -c): tasks whose real parent it is.</summary>
    public IEnumerable<CrashProcess> Children(CrashProcess task) => Tasks.Where(t => t.ParentTask == task.Task && t.Task != task.Task && !t.IsIdle);
}
