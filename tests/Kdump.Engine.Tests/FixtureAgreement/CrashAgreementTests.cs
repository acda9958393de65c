using System.Text;
using Kdump.Engine.Linux.Printk;
using Kdump.Engine.Linux.Stack;
using Kdump.Engine.Linux.Sys;
using Kdump.Engine.Model;
using Kdump.Engine.Tests.Printk;
using Kdump.Engine.Tests.Stack;
using Xunit.Abstractions;

namespace Kdump.Engine.Tests.FixtureAgreement;

/// <summary>
/// Issues #5/#6: on EVERY fixture dump (all formats of both captures, no debuginfo: BTF and kallsyms from the dump),
/// every row and column of ps, foreach files, foreach vm, sys, irq -s, ipcs, swap, kmem -i, mod, bt -a, foreach bt
/// and log agrees with crash 8.0.6's answer for the same capture (crash/ was made on the pvpanic run's mdf-zlib,
/// crash-kexec/ on kexec-vmcore.elf).
/// No per-format exception is needed: the QEMU ELF dumps (all pages) and the QEMU kdump-zlib one (dump level 1)
/// give the same ps %MEM/VSZ/RSS, vm RSS and kmem -i figures as the -d 31 dumps, because crash and we take them from
/// the kernel's counters (mm rss_stat, vm_zone_stat/vm_node_stat, totalram_pages, swap_info) and, for kmem -i's
/// SHARED, from the page structs (mem_map), which are kernel data that -d 31 keeps — never from the excluded pages. The only format-dependent answer is sys's [PARTIAL DUMP] mark (see <see cref="SysEveryField"/>).
/// </summary>
[Collection(FixtureDumpsCollection.Name)]
public class CrashAgreementTests
{
    private readonly FixtureDumps _fx;
    private readonly ITestOutputHelper _out;

    public CrashAgreementTests(FixtureDumps fx, ITestOutputHelper output) { _fx = fx; _out = output; }

    /// <summary>
    /// Runs <paramref name="check"/> on every dump that has crash's answers for its run and fails with every
    /// difference of every dump (not just the first).
    /// </summary>
    private void OnEveryDump(string what, Func<FixtureDump, List<string>> check) => OnEveryDump(_out, what, _fx.WithReference.ToList(), check);

    /// <summary>
    /// Runs <paramref name="check"/> on each of <paramref name="dumps"/> and fails with every difference of every dump.
    /// A dump whose producer dropped pages the kernel uses (crash ran on a complete dump of the capture) cannot
    /// agree; its differences are accepted only when they say what is missing.
    /// </summary>
    internal static void OnEveryDump(ITestOutputHelper output, string what, IReadOnlyList<FixtureDump> dumps, Func<FixtureDump, List<string>> check)
    {
        Assert.NotEmpty(dumps);
        var all = new List<string>();
        foreach (var d in dumps)
        {
            List<string> diffs;
            try { diffs = check(d); }
            catch (KdumpException ex) { diffs = new() { $"{ex.ErrorId}: {ex.Message}" }; }
            if (d.DropsPages is not null && diffs.Count > 0)
            {
                // the producer dropped pages the kernel uses: the answer cannot agree, but it must say what is missing
                bool reported = diffs.Any(Reports);
                output.WriteLine($"{what} {d.Id} (drops pages: {d.DropsPages}): {diffs.Count} differences, {(reported ? "the missing pages are reported" : "NOT REPORTED")}");
                if (!reported) all.AddRange(diffs.Select(x => $"{d.Id} (drops pages, silently): {x}"));
                continue;
            }
            output.WriteLine($"{what} {d.Id} ({d.Format} {d.Compression} level {d.DumpLevel}, run {d.Run}): {(diffs.Count == 0 ? "agrees" : diffs.Count + " differences")}");
            all.AddRange(diffs.Select(x => $"{d.Id}: {x}"));
        }
        foreach (var x in all.Take(200)) output.WriteLine(x);
        Assert.True(all.Count == 0, $"{all.Count} differences; first: {string.Join(" | ", all.Take(6))}");
    }

    /// <summary>A warning or error that names a page the dump does not hold.</summary>
    internal static bool Reports(string diff) => diff.Contains("excluded from the dump", StringComparison.Ordinal) || diff.Contains("not in the dump", StringComparison.Ordinal);

    private List<string> Rows(FixtureDump d, string command, string crashFile, Func<string, List<string>> crash, Func<Vmcore, List<string>> ours)
    {
        var expected = crash(_fx.CrashText(d, crashFile));
        // a parser that finds nothing in crash's text would make an empty answer of ours "agree"
        Assert.True(expected.Count > 0, $"no rows parsed from {_fx.ReferenceOf(d).Dir}/{crashFile}");
        return CrashRows.Diff(command, expected, _fx.Answer(d, command, ours));
    }

    [FixtureFact]
    public void PsEveryTaskAndColumn() => OnEveryDump("ps", d =>
    {
        var diffs = Rows(d, "ps", "ps.txt", CrashRows.Ps, v => CrashRows.Ps(_fx.Tasks(d)));
        var table = _fx.Tasks(d);
        diffs.AddRange(table.Warnings.Select(w => "ps warning: " + w));
        var leaders = Linux.SampleDump.ParsePs(_fx.CrashText(d, "ps-group-leaders.txt")).Select(c => $"{c.Task:x}").ToList();
        diffs.AddRange(CrashRows.Diff("ps -G", leaders, table.Tasks.Where(t => t.IsThreadGroupLeader).Select(t => $"{t.Task:x}").ToList()));
        var rx = new System.Text.RegularExpressions.Regex(@"TASK:\s+([0-9a-f]+)");
        var chains = _fx.CrashText(d, "ps-parents.txt").Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(s => string.Join(" <- ", rx.Matches(s).Select(m => m.Groups[1].Value))).ToList();
        var ours = table.Tasks.Select(t => string.Join(" <- ", table.Ancestry(t).Select(a => $"{a.Task:x}"))).ToList();
        diffs.AddRange(CrashRows.Diff("ps -p", chains, ours));
        return diffs;
    });

    [FixtureFact]
    public void FilesEveryDescriptor() => OnEveryDump("files", d => Rows(d, "files", "files.txt", CrashRows.Files, v => CrashRows.Files(v.Kernel, _fx.Tasks(d))));

    [FixtureFact]
    public void VmEveryArea() => OnEveryDump("vm", d => Rows(d, "vm", "vm.txt", CrashRows.Vm, v => CrashRows.Vm(v.Kernel, _fx.Tasks(d))));

    [FixtureFact]
    public void SysEveryField() => OnEveryDump("sys", d =>
    {
        bool dateWrong = _fx.CrashWrong(d, "sys.txt#DATE") is not null;
        List<string> NoDate(List<string> rows) => dateWrong ? rows.Where(r => !r.StartsWith("DATE:", StringComparison.Ordinal)).ToList() : rows;
        var diffs = Rows(d, dateWrong ? "sys-nodate" : "sys", "sys.txt", t => NoDate(CrashRows.Sys(t)), v => NoDate(CrashRows.Sys(SystemInfo.Read(v))));
        var sysWarnings = new List<string>();
        var s = SystemInfo.Read(_fx.Open(d), default, sysWarnings.Add);
        diffs.AddRange(sysWarnings.Select(w => "sys warning: " + w)); // e.g. the task count of a dump that dropped task pages
        // crash adds [PARTIAL DUMP] after DUMPFILE for a kdump-compressed dump whose header names a dump level > 0
        // (the QEMU kdump-zlib one says 1). An ELF dump is partial to crash only with an NT_DISKDUMP note, which
        // makedumpfile -E does not write (its notes: NT_PRSTATUS, QEMU, VMCOREINFO): so mdf-elf, though made with
        // -d 31, is not marked, and neither do we mark it (our reader sees no dump level in an ELF).
        bool partial = d.Format != "elf" && d.DumpLevel > 0;
        if (s.IsPartialDump != partial) diffs.Add($"partial dump {s.IsPartialDump}, expected {partial} ({d.Format}, dump level {d.DumpLevel})");
        var panic = _fx.Truth(d).GetProperty("panic");
        if (s.PanicPid != panic.GetProperty("pid").GetInt32() || s.PanicCpu != panic.GetProperty("cpu").GetInt32() || s.PanicCommand != panic.GetProperty("comm").GetString())
            diffs.Add($"panic task {s.PanicPid}/{s.PanicCpu}/{s.PanicCommand} vs truth {panic}");
        return diffs;
    });

    [FixtureFact]
    public void IrqEveryLineAndCpu() => OnEveryDump("irq -s", d =>
        Rows(d, "irq", "irq.txt", t => CrashRows.Irq(t, _fx.Open(d).Kernel.PerCpuOffsets.Count), v => CrashRows.Irq(v.Kernel)));

    [FixtureFact]
    public void IpcsEveryObject() => OnEveryDump("ipcs", d => Rows(d, "ipcs", "ipcs.txt", CrashRows.Ipcs, v => CrashRows.Ipcs(v.Kernel)));

    [FixtureFact]
    public void SwapEveryArea() => OnEveryDump("swap", d => _fx.CrashWrong(d, "swap.txt") is { } why
        ? Truth(d, "swap", why, CrashRows.SwapTruth(_fx.Truth(d)), CrashRows.SwapAsTruth(_fx.Open(d).Kernel))
        : Rows(d, "swap", "swap.txt", CrashRows.Swap, v => CrashRows.Swap(v.Kernel)));

    /// <summary>Where crash is wrong on a kernel (<see cref="FixtureDumps.CrashWrong"/>), ours against the guest's truth.</summary>
    private List<string> Truth(FixtureDump d, string command, string why, List<string> truth, List<string> ours)
    {
        _out.WriteLine($"{command} {d.Id}: crash is wrong here ({why}); compared with the guest's truth");
        Assert.True(truth.Count > 0, $"no {command} truth");
        return CrashRows.Diff(command + " vs truth", truth, ours);
    }

    [FixtureFact]
    public void KmemIEveryLine() => OnEveryDump("kmem -i", d =>
    {
        if (_fx.CrashWrong(d, "kmem-i.txt") is not { } why) return Rows(d, "kmem", "kmem-i.txt", CrashRows.Kmem, v => CrashRows.Kmem(v.Kernel));
        // crash's lines without swap are right; the swap lines and the commit limit come from the guest's /proc/meminfo
        // crash 9.0.2 prints no SHARED line where it cannot tell how compound pages are linked (7.1's compound_info)
        bool noShared = !_fx.CrashText(d, "kmem-i.txt").Contains("SHARED", StringComparison.Ordinal);
        bool SwapOrCommit(string row) => row.Contains("SWAP", StringComparison.Ordinal) || row.StartsWith("COMMIT", StringComparison.Ordinal) || (noShared && row.StartsWith("SHARED ", StringComparison.Ordinal));
        var ours = _fx.Answer(d, "kmem", v => CrashRows.Kmem(v.Kernel));
        var diffs = CrashRows.Diff("kmem", CrashRows.Kmem(_fx.CrashText(d, "kmem-i.txt")).Where(r => !SwapOrCommit(r)).ToList(), ours.Where(r => !SwapOrCommit(r)).ToList());
        diffs.AddRange(Truth(d, "kmem -i swap", why, CrashRows.KmemSwapTruth(_fx.Truth(d)), CrashRows.KmemSwapAsTruth(ours)));
        return diffs;
    });

    [FixtureFact]
    public void ModEveryModule() => OnEveryDump("mod", d => _fx.CrashWrong(d, "mod.txt") is { } why
        ? Truth(d, "mod", why, CrashRows.ModTruth(_fx.Truth(d)), CrashRows.ModAsTruth(_fx.Open(d).Kernel))
        : Rows(d, "mod", "mod.txt", CrashRows.Mod, v => CrashRows.Mod(v.Kernel)));

    /// <summary>
    /// Every `vtop -c PID ADDR` crash answered for the capture (a present and a swapped page of the hog): each level's
    /// entry, the physical page or swap device and offset, and the VMA — the path Convert-CrashAddress -Pid takes.
    /// </summary>
    [FixtureFact]
    public void VtopEveryCrashAnswer() => OnEveryDump("vtop", d =>
    {
        var v = _fx.Open(d);
        var dir = _fx.ReferenceOf(d).Dir;
        var rx = new System.Text.RegularExpressions.Regex(@"^vtop -c (\d+) (?:0x)?([0-9a-f]+)\s*$", System.Text.RegularExpressions.RegexOptions.Multiline);
        var asked = rx.Matches(File.ReadAllText(Path.Combine(dir, "commands.txt"))).ToDictionary(m => Translation.RealDumpVtopTests.Hex(m.Groups[2].Value), m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        var answers = Directory.GetFiles(dir, "vtop-*.txt").Order(StringComparer.Ordinal).ToList();
        Assert.True(answers.Count > 0 && answers.Count == asked.Count, $"{dir}: {answers.Count} vtop answers for {asked.Count} vtop commands");
        var diffs = new List<string>();
        foreach (var f in answers)
        {
            var text = File.ReadAllText(f);
            var head = System.Text.RegularExpressions.Regex.Match(text, @"VIRTUAL\s+PHYSICAL\s*\n\s*([0-9a-f]+)");
            if (!head.Success || !asked.TryGetValue(Translation.RealDumpVtopTests.Hex(head.Groups[1].Value), out var pid)) { diffs.Add($"{Path.GetFileName(f)}: no command for its address"); continue; }
            diffs.AddRange(Translation.RealDumpVtopTests.CompareWithCrashVtop(v.Kernel, _fx.Tasks(d), text, pid, _fx.Truth(d).TryGetProperty("pagemap", out var pm) ? pm : null));
        }
        return diffs;
    });

    [FixtureFact]
    public void BtEveryTaskAndCpu() => OnEveryDump("bt", d =>
    {
        var v = _fx.Open(d);
        var k = v.Kernel;
        var diffs = new List<string>();
        var traces = _fx.Answer(d, "bt", _ => new Dictionary<ulong, CrashBacktrace>());
        CrashBacktrace Trace(ulong task)
        {
            if (!traces.TryGetValue(task, out var t)) traces[task] = t = RealBacktraceTests.Trace(v, k, task);
            return t;
        }
        var proofs = new List<string>();
        // crash's traces are compared all the same where crash is known to be wrong in places: each place crash differs
        // must be proven wrong from the stack memory and the kernel's ORC entries (RealBacktraceTests.Compare, rule 4)
        if (_fx.CrashWrong(d, "foreach-bt.txt") is { } why) _out.WriteLine($"bt {d.Id}: crash is wrong in places ({why}); its differences must be proven");
        // and every trace must be complete, whatever crash says
        diffs.AddRange(BtConsistent(d, v, Trace));
        var each = CrashBtText.Parse(_fx.CrashText(d, "foreach-bt.txt"));
        if (each.Count != _fx.Tasks(d).Tasks.Count) diffs.Add($"foreach bt: crash traced {each.Count} tasks, we list {_fx.Tasks(d).Tasks.Count}");
        foreach (var c in each)
        {
            var ours = Trace(c.Task);
            if (ours.Pid != c.Pid || ours.Command != c.Command || ours.Cpu != c.Cpu) diffs.Add($"bt {c.Pid}: header {ours.Pid} {ours.Cpu} {ours.Command}");
            diffs.AddRange(ours.Warnings.Select(w => $"bt {c.Pid} warning: {w}"));
            diffs.AddRange(RealBacktraceTests.Compare(c, ours, k, proofs));
        }
        var all = CrashBtText.Parse(_fx.CrashText(d, "bt-all.txt"));
        if (all.Count != k.PerCpuOffsets.Count) diffs.Add($"bt -a: crash shows {all.Count} CPUs");
        foreach (var c in all)
        {
            var ours = Trace(c.Task);
            if (!ours.IsActive) diffs.Add($"bt -a {c.Pid}: not active");
            if (!c.StackSwitches.SequenceEqual(RealBacktraceTests.StackSwitches(ours)))
                diffs.Add($"bt -a {c.Pid}: stack switches {string.Join(",", c.StackSwitches)} vs {string.Join(",", RealBacktraceTests.StackSwitches(ours))}");
            var rips = c.ExceptionRips.Skip(c.StartsWithException ? 1 : 0).ToList();
            var ourRips = ours.Frames.Where(f => f.ExceptionLocation is not null && !f.FromRegisters).Select(f => f.ExceptionLocation!).ToList();
            if (!rips.SequenceEqual(ourRips)) diffs.Add($"bt -a {c.Pid}: exception RIPs {string.Join(",", rips)} vs {string.Join(",", ourRips)}");
            diffs.AddRange(RealBacktraceTests.Compare(c, ours, k, proofs));
        }
        if (proofs.Count > 0) _out.WriteLine($"bt {d.Id}: {proofs.Count} of crash's differences proven wrong from the stack memory{(d.Name == _fx.ReferenceOf(d).Dump ? ":" : "")}");
        if (d.Name == _fx.ReferenceOf(d).Dump) foreach (var p in proofs.Distinct()) _out.WriteLine("  crash is wrong: " + p);
        return diffs;
    });

    /// <summary>
    /// Every task's trace has no warning and is complete as the kernel's own unwinder defines it: it ends on an
    /// END_OF_STACK ORC entry (the entry code of kernel threads and the idle tasks' startup code carry that hint) or
    /// at the pt_regs saved on entry from user mode; and the panic task's trace holds the sysrq write path the guest
    /// took.
    /// </summary>
    private List<string> BtConsistent(FixtureDump d, Vmcore v, Func<ulong, CrashBacktrace> trace)
    {
        var diffs = new List<string>();
        var table = _fx.Tasks(d);
        var info = KernelUnwindInfo.For(v.Kernel);
        foreach (var t in table.Tasks)
        {
            var bt = trace(t.Task);
            diffs.AddRange(bt.Warnings.Select(w => $"bt {t.Pid} warning: {w}"));
            if (bt.Frames.LastOrDefault() is not { } last) { diffs.Add($"bt {t.Pid} ({t.Command}): no frames"); continue; }
            bool user = last.Registers is { } r && PtRegs.IsUserMode(r);
            var orc = info.FindOrc(last.FromRegisters ? last.InstructionPointer.Value : last.InstructionPointer.Value - 1);
            // (a kernel without ORC data has no END_OF_STACK hint: its kernel threads' frame-pointer chains end on zero)
            if (!user && orc?.Type != OrcType.EndOfStack && !(info.FramePointersOnly && (t.IsKernelThread || t.Pid == 0)))
                diffs.Add($"bt {t.Pid} ({t.Command}) ends at '{last.Location}' ({(orc is { } e ? "ORC " + e : "no ORC entry")}), neither the end of the stack nor user registers");
            else if (user == t.IsKernelThread && t.Pid != 0)
                diffs.Add($"bt {t.Pid} ({t.Command}) ends at '{last.Location}' with{(user ? "" : "out")} user registers, but it is {(t.IsKernelThread ? "a kernel thread" : "a user task")}");
        }
        var panic = _fx.Truth(d).GetProperty("panic").GetProperty("pid").GetInt32();
        var pt = table.Tasks.First(t => t.Pid == panic);
        var names = trace(pt.Task).Frames.Select(f => f.Function).ToList();
        foreach (var want in new[] { "panic", "sysrq_handle_crash", "write_sysrq_trigger", "vfs_write", "ksys_write", "do_syscall_64" })
            if (!names.Contains(want)) diffs.Add($"bt {panic}: no frame {want} in {string.Join(" < ", names)}");
        return diffs;
    }

    internal static string Log(Vmcore v, List<PrintkWarning> warnings, CrashLogFormat? format = null)
        => PrintkFixtureTests.Lines(PrintkLog.EnumerateRecords(v.Kernel.VmcoreInfo!, v.Kernel.ReadKernel, null, format ?? CrashLogFormat.Default, warnings.Add));

    /// <summary>makedumpfile 1.7.6+ prints the caller id ("[      T0] ") where the kernel exports it (6.12, not 6.1).</summary>
    internal static bool HasCallerIds(string text) => System.Text.RegularExpressions.Regex.IsMatch(text, @"\A\[ *\d+\.\d{6}\] \[ *[TC]\d+\] ");

    private static string Latin1(string path) => Encoding.Latin1.GetString(File.ReadAllBytes(path));

    [FixtureFact]
    public void LogByteIdentical() => OnEveryDump("log", d =>
    {
        var diffs = new List<string>();
        var warnings = new List<PrintkWarning>();
        string ours = _fx.Answer(d, "log", v => Log(v, warnings));
        diffs.AddRange(warnings.Select(w => "log warning: " + w));
        var expected = new List<(string Name, string Text)> { ("crash log", Latin1(Path.Combine(_fx.ReferenceOf(d).Dir, "log.txt"))) };
        if (d.Run == "pvpanic" && d.Set.Manifest.TryGetProperty("dmesg", out var dm) && dm.ValueKind == System.Text.Json.JsonValueKind.String)
            expected.Add(("makedumpfile --dump-dmesg", Latin1(Path.Combine(d.Set.Dir, dm.GetString()!))));
        foreach (var (name, text) in expected)
        {
            string mine = HasCallerIds(text) ? _fx.Answer(d, "log-callers", v => Log(v, new List<PrintkWarning>(), CrashLogFormat.WithCallerId)) : ours;
            if (text != mine)
            {
                int i = 0;
                while (i < text.Length && i < mine.Length && text[i] == mine[i]) i++;
                diffs.Add($"log differs from {name} at byte {i} ({text.Length} vs {mine.Length} bytes): '{Snip(text, i)}' vs '{Snip(mine, i)}'");
            }
        }
        return diffs;
    });

    private static string Snip(string s, int at) => at >= s.Length ? "<end>" : s.Substring(at, Math.Min(60, s.Length - at)).Replace("\n", "\\n");

    /// <summary>
    /// Every dump of a capture gives the same answer to every command, whatever its format, compression, dump level
    /// or split (the answers are compared in full, not only where crash has a reference: every task's frames too).
    /// </summary>
    [FixtureFact]
    public void SameCaptureSameAnswersInEveryFormat()
    {
        var diffs = new List<string>();
        // dumps that drop pages the kernel uses (dropsPages) cannot give the same answers; the agreement tests check them
        foreach (var run in _fx.Dumps.Where(d => d.DropsPages is null).GroupBy(d => (d.Set, d.Run)))
        {
            var dumps = run.ToList();
            var reference = dumps.FirstOrDefault(d => d.Set.ReferenceOf.TryGetValue(d.Run, out var r) && r.Dump == d.Name) ?? dumps[0];
            var baseline = Answers(reference);
            foreach (var d in dumps.Where(x => x != reference))
            {
                var a = Answers(d);
                foreach (var (cmd, rows) in baseline)
                {
                    var diff = CrashRows.Diff(cmd, rows, a[cmd], 4);
                    if (diff.Count == 0) continue;
                    diffs.AddRange(diff.Select(x => $"{d.Id} vs {reference.Name}: {x}"));
                }
                _out.WriteLine($"{d.Id}: compared with {reference.Name}");
            }
        }
        foreach (var x in diffs.Take(200)) _out.WriteLine(x);
        Assert.True(diffs.Count == 0, $"{diffs.Count} differences; first: {string.Join(" | ", diffs.Take(6))}");
    }

    private Dictionary<string, List<string>> Answers(FixtureDump d)
    {
        var v = _fx.Open(d);
        var k = v.Kernel;
        var table = _fx.Tasks(d);
        var a = new Dictionary<string, List<string>>
        {
            ["ps"] = _fx.Answer(d, "ps", _ => CrashRows.Ps(table)),
            ["files"] = _fx.Answer(d, "files", _ => CrashRows.Files(k, table)),
            ["vm"] = _fx.Answer(d, "vm", _ => CrashRows.Vm(k, table)),
            ["sys"] = _fx.Answer(d, "sys", _ => CrashRows.Sys(SystemInfo.Read(v))),
            ["irq"] = _fx.Answer(d, "irq", _ => CrashRows.Irq(k)),
            ["ipcs"] = _fx.Answer(d, "ipcs", _ => CrashRows.Ipcs(k)),
            ["swap"] = _fx.Answer(d, "swap", _ => CrashRows.Swap(k)),
            ["kmem"] = _fx.Answer(d, "kmem", _ => CrashRows.Kmem(k)),
            ["mod"] = _fx.Answer(d, "mod", _ => CrashRows.Mod(k)),
            ["log"] = new() { _fx.Answer(d, "log", _ => Log(v, new List<PrintkWarning>())) },
        };
        var traces = _fx.Answer(d, "bt", _ => new Dictionary<ulong, CrashBacktrace>());
        a["bt"] = table.Tasks.Select(t =>
        {
            if (!traces.TryGetValue(t.Task, out var bt)) traces[t.Task] = bt = RealBacktraceTests.Trace(v, k, t.Task);
            return $"{t.Pid} {t.Task:x}\n" + CrashRows.Frames(bt);
        }).ToList();
        return a;
    }
}
