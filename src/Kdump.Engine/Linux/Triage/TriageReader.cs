using Kdump.Engine.Linux.MemInfo;
using Kdump.Engine.Linux.Printk;
using Kdump.Engine.Linux.Stack;
using Kdump.Engine.Linux.Sys;
using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Model;
using Kdump.Engine.Program;

namespace Kdump.Engine.Linux.Triage;

/// <summary>Limits of one triage (how much of the log and of the blocked tasks it keeps).</summary>
public sealed record TriageOptions
{
    /// <summary>How many of the last error-or-worse log lines to keep.</summary>
    public int ErrorLines { get; init; } = 20;
    /// <summary>How many D-state tasks get a backtrace (the longest-waiting ones).</summary>
    public int BlockedTasks { get; init; } = 32;
    /// <summary>How many findings of the log to keep (the latest).</summary>
    public int Findings { get; init; } = 200;
}

/// <summary>
/// Builds a <see cref="CrashTriage"/> from the engine's readers: SystemInfo (sys), TaskTable (ps, scheduler
/// fields), Backtracer (bt), MemoryInfoReader (kmem -i), the printk ring (log) and tainted_mask. Each part that
/// cannot be read becomes a line of <see cref="CrashTriage.Problems"/>; the rest is still filled in.
/// </summary>
public static class TriageReader
{
    public static CrashTriage Read(Vmcore vmcore, TriageOptions? options = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(vmcore);
        options ??= new TriageOptions();
        var problems = new List<string>();
        var k = vmcore.Kernel;

        CrashSystem? sys = null;
        try { sys = SystemInfo.Read(vmcore, cancellation, w => problems.Add("sys: " + w)); }
        catch (KdumpException ex) { problems.Add($"sys: {ex.Message}"); }

        TaskTable? tasks = null;
        try { tasks = TaskTable.Get(k, vmcore, cancellation: cancellation); }
        catch (KdumpException ex) { problems.Add($"tasks: {ex.Message}"); }

        // the log: findings, RIP lines and the last err+ lines in one pass
        var findings = new List<CrashTriageFinding>();
        var errors = new Queue<string>();
        string? lastRip = null;
        if (vmcore.VmcoreInfo is { } vi)
        {
            try
            {
                foreach (var r in PrintkLog.EnumerateRecords(vi, k.ReadKernel, null, null, w => problems.Add("log: " + w.Message)))
                {
                    cancellation.ThrowIfCancellationRequested();
                    string text = r.Text;
                    foreach (var line in text.Split('\n'))
                    {
                        if (line.Length == 0) continue;
                        foreach (var kind in PanicClassifier.FindingKinds(line))
                        {
                            findings.Add(new CrashTriageFinding { Kind = kind, Timestamp = r.TimestampNanoseconds / 1e9, Sequence = r.Sequence, Text = line });
                            if (findings.Count > options.Findings * 4) findings.RemoveRange(0, findings.Count - options.Findings);
                        }
                        if (PanicClassifier.KernelRip(line) is { } rip) lastRip = rip;
                    }
                    if ((r.Level & 7) <= 3 && options.ErrorLines > 0)
                    {
                        if (errors.Count == options.ErrorLines) errors.Dequeue();
                        errors.Enqueue(r.ToString());
                    }
                }
            }
            catch (KdumpException ex) { problems.Add($"log: {ex.Message}"); }
        }
        else problems.Add("log: the dump has no VMCOREINFO, which locates the kernel log");
        if (findings.Count > options.Findings) findings.RemoveRange(0, findings.Count - options.Findings);

        string panicMessage = sys?.Panic ?? "";
        var cls = PanicClassifier.Classify(panicMessage, findings, out var failureLine);
        string? ripOut = cls is TriagePanicClass.Oops or TriagePanicClass.NullPointer or TriagePanicClass.Bug or TriagePanicClass.WarnPanic ? lastRip : null;

        // backtraces: the panic task, each CPU's task, the D-state tasks
        Backtracer? bt = null;
        try { bt = new Backtracer(k, vmcore); }
        catch (KdumpException ex) { problems.Add($"bt: {ex.Message}"); }
        int? panicCpu = sys?.PanicCpu ?? tasks?.PanicCpu;
        var traces = new Dictionary<ulong, CrashBacktrace?>();
        CrashBacktrace? Trace(CrashProcess t)
        {
            if (bt is null) return null;
            if (traces.TryGetValue(t.Task, out var c)) return c;
            CrashBacktrace? trace = null;
            try { trace = bt.Trace(new BacktraceTarget(t.Task, t.Pid, t.Command, t.Cpu, t.IsActive, t.IsPanicTask), cancellation); }
            catch (KdumpException ex) { problems.Add($"bt {t.Pid} ({t.Command}): {ex.Message}"); }
            return traces[t.Task] = trace;
        }
        CrashTriageTask Entry(CrashProcess t, int cpu)
        {
            var trace = Trace(t);
            return new CrashTriageTask
            {
                Pid = t.Pid, Task = t.Task, Cpu = cpu, Command = t.Command, State = t.State, SinceLastRun = t.SinceLastRun, Backtrace = trace,
                Frames = trace?.Frames.Select(PanicSignature.FrameName).Where(n => n is not null).Select(n => n!).ToList() ?? (IReadOnlyList<string>)Array.Empty<string>(),
            };
        }

        var panicTask = sys?.PanicTask ?? tasks?.PanicTask;
        var panicTrace = panicTask is not null ? Trace(panicTask) : null;
        var onCpu = new List<CrashTriageTask>();
        var blocked = new List<CrashTriageTask>();
        int blockedCount = 0;
        if (tasks is not null)
        {
            for (int cpu = 0; cpu < tasks.ActiveTasks.Count; cpu++)
            {
                if (tasks.ActiveTask(cpu) is { } a) { onCpu.Add(Entry(a, cpu)); continue; }
                // the CPU's task is not among the tasks read (its task_struct's page not in the dump): say why
                ulong addr = tasks.ActiveTasks[cpu];
                string why = "it is not in the task list";
                try { k.ReadU64(addr); }
                catch (KdumpException ex) { why = $"{ex.ErrorId}: {ex.Message}"; }
                problems.Add($"on-cpu: the task of CPU {cpu} at 0x{addr:x} could not be read: {why}");
            }
            var d = tasks.Tasks.Where(t => t.State == "UN" && !t.IsIdle).ToList();
            blockedCount = d.Count;
            foreach (var t in d.OrderByDescending(t => t.SinceLastRun ?? TimeSpan.Zero).ThenBy(t => t.Pid).Take(options.BlockedTasks))
            {
                cancellation.ThrowIfCancellationRequested();
                blocked.Add(Entry(t, t.Cpu));
            }
        }

        // a hung-task panic happens in khungtaskd: the blocked task the log names first is the failing path
        IReadOnlyList<CrashFrame>? sigFrames = panicTrace?.Frames;
        if (cls == TriagePanicClass.HungTask && blocked.Count > 0)
        {
            var named = findings.FirstOrDefault(f => f.Kind == "HungTask") is { } hf
                ? blocked.FirstOrDefault(b => hf.Text.Contains($":{b.Pid} ", StringComparison.Ordinal)) : null;
            sigFrames = (named ?? blocked[0]).Backtrace?.Frames ?? sigFrames;
        }
        var (sigText, sigHash, sigList) = PanicSignature.Build(cls, sigFrames, panicMessage);

        ulong taint = 0;
        try { if (k.FindSymbol("tainted_mask") is { } tm) taint = k.ReadU64(tm.Address); else problems.Add("taint: no tainted_mask symbol"); }
        catch (KdumpException ex) { problems.Add($"taint: {ex.Message}"); }

        CrashMemoryPressure? memory = null;
        try
        {
            var f = new MemoryInfoReader(k, (id, msg) => problems.Add($"memory: {msg}"), cancellation).Read();
            ulong page = (ulong)(vmcore.VmcoreInfo?.PageSize is int ps and > 0 ? ps : 4096);
            memory = new CrashMemoryPressure
            {
                Total = f.TotalRam * page, Free = f.Free * page, Cached = f.Cached * page, Slab = f.Slab * page,
                SwapTotal = f.SwapTotal * page, SwapFree = f.SwapFree * page, CommitLimit = f.CommitLimit * page, Committed = f.Committed * page,
            };
        }
        catch (KdumpException ex) { problems.Add($"memory: {ex.Message}"); }

        if (tasks is not null) problems.AddRange(tasks.Warnings.Select(w => "tasks: " + w));
        return new CrashTriage
        {
            Vmcore = vmcore, DumpFile = vmcore.Path, NodeName = sys?.NodeName ?? vmcore.NodeName ?? "", Release = sys?.Release ?? vmcore.KernelRelease ?? "",
            Machine = sys?.Machine ?? vmcore.Architecture ?? "", Cpus = sys?.Cpus ?? tasks?.ActiveTasks.Count ?? 0,
            Date = sys?.Date, Uptime = sys?.Uptime, LoadAverage = sys?.LoadAverage ?? Array.Empty<double>(), LoadAverageText = sys?.LoadAverageText ?? "",
            PanicClass = cls, PanicMessage = panicMessage, FailureLine = failureLine, Rip = ripOut,
            PanicTask = panicTask, PanicCpu = panicCpu, PanicBacktrace = panicTrace,
            Signature = sigText, SignatureHash = sigHash, SignatureFrames = sigList,
            Taint = taint, TaintText = TaintFlags.Text(taint), TaintFlags = TaintFlags.Names(taint),
            Memory = memory, OnCpu = onCpu, BlockedTasks = blocked, BlockedTaskCount = blockedCount,
            ErrorLog = errors.ToList(), Findings = findings, Problems = problems,
        };
    }

    /// <summary>The differences between two triages (Compare-CrashDump): class, signature, panic, taint, kernel, and the kinds of finding.</summary>
    public static IReadOnlyList<CrashTriageDifference> Compare(CrashTriage reference, CrashTriage difference)
    {
        var d = new List<CrashTriageDifference>();
        void Add(string p, string? a, string? b)
        {
            if (!string.Equals(a, b, StringComparison.Ordinal))
                d.Add(new CrashTriageDifference { Property = p, Reference = a, Difference = b, ReferenceVmcore = reference.Vmcore, DifferenceVmcore = difference.Vmcore });
        }
        Add(nameof(CrashTriage.PanicClass), reference.PanicClass.ToString(), difference.PanicClass.ToString());
        Add(nameof(CrashTriage.SignatureHash), reference.SignatureHash, difference.SignatureHash);
        Add(nameof(CrashTriage.Signature), reference.Signature, difference.Signature);
        Add(nameof(CrashTriage.PanicMessage), reference.PanicMessage, difference.PanicMessage);
        Add(nameof(CrashTriage.Rip), reference.Rip, difference.Rip);
        Add("PanicCommand", reference.PanicTask?.Command, difference.PanicTask?.Command);
        Add(nameof(CrashTriage.TaintText), reference.TaintText, difference.TaintText);
        Add(nameof(CrashTriage.Release), reference.Release, difference.Release);
        Add(nameof(CrashTriage.Machine), reference.Machine, difference.Machine);
        Add(nameof(CrashTriage.Cpus), reference.Cpus.ToString(System.Globalization.CultureInfo.InvariantCulture), difference.Cpus.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add(nameof(CrashTriage.BlockedTaskCount), reference.BlockedTaskCount.ToString(System.Globalization.CultureInfo.InvariantCulture), difference.BlockedTaskCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var kinds = reference.Findings.Select(f => f.Kind).Concat(difference.Findings.Select(f => f.Kind)).Distinct().Order(StringComparer.Ordinal);
        foreach (var kind in kinds)
            Add("Findings:" + kind, reference.Findings.Count(f => f.Kind == kind).ToString(System.Globalization.CultureInfo.InvariantCulture),
                difference.Findings.Count(f => f.Kind == kind).ToString(System.Globalization.CultureInfo.InvariantCulture));
        return d;
    }
}
