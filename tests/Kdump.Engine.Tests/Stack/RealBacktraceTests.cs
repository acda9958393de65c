using System.Globalization;
using System.Text.Json;
using Kdump.Engine.Dump;
using Kdump.Engine.Linux.Modules;
using Kdump.Engine.Linux.Stack;
using Kdump.Engine.Model;
using Kdump.Engine.Program;

namespace Kdump.Engine.Tests.Stack;

/// <summary>
/// Backtraces and modules of real dumps against crash 8.0.6 (samples/crash/*.txt, the fixtures' crash-kexec/, and
/// `foreach bt` captured from crash on the same dumps, in this folder).
/// </summary>
public class RealBacktraceTests
{
    private static (Vmcore V, KernelProgram K) Open(string path)
    {
        var v = new Vmcore(DumpFile.Open(path));
        return (v, v.Kernel);
    }

    private static string Here(string file) => Path.Combine(TestEnvironment.RepoRoot, "tests", "Kdump.Engine.Tests", "Stack", file);

    internal static CrashBacktrace Trace(Vmcore v, KernelProgram k, ulong task)
    {
        var panicCpu = BacktraceTargets.PanicCpu(k, v.PanicCpu);
        return new Backtracer(k, v).Trace(BacktraceTargets.ForTask(k, task, panicCpu));
    }

    /// <summary>
    /// Compares our trace with crash's, frame by frame from the outermost frame inwards (function and stack
    /// address). Returns the differences that are not one of crash's documented display conventions:
    /// (1) crash shows the first frame after an IRQ stack at its pt_regs address, 8 bytes above the return
    /// address slot we show; (2) crash shows the exception RIP of a handler chain as a numbered frame at that RSP
    /// (we do too; nothing to allow); (3) above the innermost frame both agree on, crash may list words it found
    /// by scanning (a stale return address at the saved RSP, or frames below the saved RSP that ran after the
    /// registers were saved), while we may list the live frames above crash's first one (module code of the panic
    /// notifier) — each such extra frame must lie on the stack side of the divergence it belongs to;
    /// (4) between two frames both show, crash's frames may differ from ours only where crash's step contradicts
    /// the kernel's own unwind data, recomputed here from the stack memory (<see cref="OrcCallerSlot"/>): every
    /// step of ours there lands on the slot the frame's ORC entry dictates and holds a return address that follows
    /// a call, and crash's step out of the inner frame both show lands elsewhere (crash 9.0.2 cannot decode Linux
    /// 7.1's renumbered ORC registers and scans the stack there: it lists stale words inside a frame, such as the
    /// random kernel-stack offset area of do_syscall_64, or skips a frame). Each such proof is added to
    /// <paramref name="proofs"/> when given.
    /// </summary>
    internal static List<string> Compare(CrashBtTrace crash, CrashBacktrace ours, KernelProgram k, List<string>? proofs = null)
    {
        var diffs = new List<string>();
        var c = crash.Frames;
        var o = ours.Frames;
        bool Same(int ci, int oj)
        {
            var cf = c[ci]; var of = o[oj];
            return SameFunction(k, cf, of) && (cf.Sp == of.StackPointer || (cf.Sp == of.StackPointer + 8 && of.Registers is not null && oj > 0 && o[oj - 1].Stack == "IRQ"));
        }
        int i = c.Count - 1, j = o.Count - 1;
        while (true)
        {
            while (i >= 0 && j >= 0 && Same(i, j)) { i--; j--; }
            if (i < 0 || j < 0 || i == c.Count - 1) break;
            // (4): the nearest inner frame both show, and the proof that crash's steps out of it are wrong
            int i2 = -1, j2 = -1;
            for (int m = j; m >= 0 && j2 < 0; m--)
                for (int n = i; n >= 0; n--)
                    if (Same(n, m)) { i2 = n; j2 = m; break; }
            if (j2 < 0 || ProveCrashStepWrong(k, o, j2, j + 1, c[i2 + 1].Sp) is not { } proof) break;
            proofs?.Add($"PID {crash.Pid}: {proof}; crash's {string.Join(", ", c.Skip(i2 + 1).Take(i - i2).Select(f => $"{f.Function} [{f.Sp:x}]"))} vs ours {string.Join(", ", o.Skip(j2 + 1).Take(j - j2).Select(f => $"{f.Function} [{f.StackPointer.Value:x}]"))}");
            i = i2; j = j2;
        }
        // What remains are the innermost frames.
        if (i >= 0 && j >= 0)
        {
            // Our innermost frame starts from registers: crash's frame at the same RSP naming another function is a
            // stale word it found there (it printed the registers as an exception RIP above it).
            // (or at the word above it: crash's #0 at RSP + 8, as a regenerated 6.1 capture's stopped CPU shows)
            if (i == 0 && j == 0 && o[0].FromRegisters && (c[0].Sp == o[0].StackPointer || c[0].Sp == o[0].StackPointer + 8) && crash.StartsWithException
                && crash.ExceptionRips.Count > 0 && crash.ExceptionRips[0].StartsWith(o[0].Function + "+", StringComparison.Ordinal))
                return diffs;
            // crash went on below the saved RSP (frames that ran after the registers were saved): its extra inner
            // frames lie below our first frame, and its next frame names our first frame's function.
            if (o[j].FromRegisters && j == 0 && c[i].Function == o[0].Function && c.Take(i).All(f => f.Sp < o[0].StackPointer))
                return diffs;
            diffs.Add($"PID {crash.Pid}: crash #{c[i].Level} [{c[i].Sp:x}] {c[i].Function} vs ours #{o[j].Level} [{o[j].StackPointer:x}] {o[j].Function}");
        }
        else if (i >= 0) diffs.Add($"PID {crash.Pid}: crash has {i + 1} more inner frames, from #{c[0].Level} {c[0].Function}");
        else if (j >= 0 && c.Count > 0 && o.Take(j + 1).Any(f => f.StackPointer >= c[0].Sp))
            diffs.Add($"PID {crash.Pid}: our extra inner frames are not below crash's first frame");
        return diffs;
    }

    /// <summary>
    /// The proof for rule (4) of <see cref="Compare"/>: every step of ours from frame <paramref name="inner"/> out to
    /// frame <paramref name="outer"/> lands where the frame's ORC entry says its caller's return address is and that
    /// word follows a call instruction, while crash's step out of frame <paramref name="inner"/> went to
    /// <paramref name="crashCallerSlot"/>, which is not that slot. Null when that cannot be shown.
    /// </summary>
    private static string? ProveCrashStepWrong(KernelProgram k, IReadOnlyList<CrashFrame> o, int inner, int outer, ulong crashCallerSlot)
    {
        var info = KernelUnwindInfo.For(k);
        string? first = null;
        for (int m = inner; m < outer; m++)
        {
            if (OrcCallerSlot(k, o, m) is not { } slot || slot != o[m + 1].StackPointer.Value) return null;
            if (!CallSites.IsCallSite(info, o[m + 1].InstructionPointer.Value, out _)) return null;
            first ??= $"the ORC entry of {o[m].Location} puts its caller's return address at {slot:x}";
        }
        return OrcCallerSlot(k, o, inner) is { } s && s != crashCallerSlot ? first + $", not at crash's {crashCallerSlot:x}" : null;
    }

    /// <summary>
    /// Where the return address into the caller of frame <paramref name="m"/>'s function lies, computed from the
    /// stack memory and that function's ORC entry alone (only CALL entries based on SP or on a frame pointer): for
    /// an SP-based entry the slot is the frame's own slot plus sp_offset; for a BP-based one it is the function's
    /// frame pointer plus sp_offset − 8, the frame pointer being the value the nearest inner function that saved
    /// its caller's BP (ORC bp_reg PREV_SP) left on the stack, or the starting registers' rbp. Null otherwise.
    /// </summary>
    internal static ulong? OrcCallerSlot(KernelProgram k, IReadOnlyList<CrashFrame> o, int m)
    {
        var info = KernelUnwindInfo.For(k);
        OrcEntry? Orc(CrashFrame f) => info.FindOrc(f.FromRegisters ? f.InstructionPointer.Value : f.InstructionPointer.Value - 1);
        if (o[m].Registers is not null && !o[m].FromRegisters) return null; // a pt_regs step, not a call
        if (Orc(o[m]) is not { Type: OrcType.Call } e) return null;
        ulong sp = o[m].FromRegisters ? o[m].StackPointer.Value : o[m].StackPointer.Value + 8;
        if (e.SpReg == OrcRegister.Sp) return sp + (ulong)(long)e.SpOffset - 8;
        if (e.SpReg != OrcRegister.Bp) return null;
        ulong? bp = null;
        for (int q = m - 1; q >= 0 && bp is null; q--)
        {
            if (o[q].Registers is not null && !o[q].FromRegisters) return null;
            if (Orc(o[q]) is not { Type: OrcType.Call } eq) return null;
            if (eq.BpReg == OrcRegister.Undefined) continue;
            if (eq.BpReg != OrcRegister.PrevSp) return null;
            // o[q]'s function saved its caller's BP at its CFA (the slot of o[q + 1] + 8) + bp_offset
            ulong at = o[q + 1].StackPointer.Value + 8 + (ulong)(long)eq.BpOffset;
            try { bp = k.ReadU64(at); } catch (KdumpException) { return null; }
        }
        if (bp is null && o[0].FromRegisters && o[0].Registers?.TryGetValue("rbp", out var rbp) == true) bp = rbp;
        return bp is { } b ? b + (ulong)(long)e.SpOffset - 8 : null;
    }

    /// <summary>Same name, or an alias at the same address (__x64_sys_pause and __ia32_sys_pause share one body).</summary>
    private static bool SameFunction(KernelProgram k, CrashBtFrame c, CrashFrame o)
        => c.Function == o.Function || (o.Function is not null && k.FindSymbol(c.Function) is { } cs && cs.Address == o.InstructionPointer - o.Offset);

    [SampleFact]
    public void PanicTaskShowsTheSysrqPathDownToTheWriteSystemCall()
    {
        var (v, k) = Open(Path.Combine(TestEnvironment.SamplesDir, "vmcore.kdump"));
        using var _ = v;
        var panicCpu = BacktraceTargets.PanicCpu(k, v.PanicCpu);
        Assert.Equal(1, panicCpu);
        var task = BacktraceTargets.ActiveTask(k, 1)!.Value;
        var bt = new Backtracer(k, v).Trace(BacktraceTargets.ForTask(k, task, panicCpu));
        Assert.Equal(780, bt.Pid);
        Assert.Equal("kdump-panic", bt.Command);
        Assert.True(bt.IsPanicTask);
        Assert.Empty(bt.Warnings);
        var names = bt.Frames.Select(f => f.Function).ToList();
        var path = new[] { "panic", "sysrq_handle_crash", "__handle_sysrq.cold", "write_sysrq_trigger", "proc_reg_write", "vfs_write", "ksys_write", "do_syscall_64", "entry_SYSCALL_64_after_hwframe" };
        Assert.Equal(path, names.Skip(names.IndexOf("panic")));
        // The live frames above panic: the pvpanic notifier in a module, named from the module's own kallsyms.
        Assert.Equal("pvpanic", bt.Frames[0].Module);
        Assert.Equal("pvpanic_panic_notify", bt.Frames[0].Function);
        var last = bt.Frames[^1];
        Assert.Equal(0x43e960UL, last.Registers!["rip"]);
        Assert.Equal(1UL, last.Registers!["orig_rax"]); // write(2)

        var crash = CrashBtText.Parse(File.ReadAllText(Path.Combine(TestEnvironment.SamplesDir, "crash", "bt-panic.txt"))).Single();
        Assert.Empty(Compare(crash, bt, k));
    }

    [SampleFact]
    public void EveryTaskAgreesWithCrashForeachBt()
    {
        var (v, k) = Open(Path.Combine(TestEnvironment.SamplesDir, "vmcore.kdump"));
        using var _ = v;
        var crash = CrashBtText.Parse(File.ReadAllText(Here("crash-foreach-bt-sample.txt")));
        Assert.Equal(67, crash.Count);
        var diffs = new List<string>();
        foreach (var c in crash)
        {
            var ours = Trace(v, k, c.Task);
            Assert.Equal(c.Pid, ours.Pid);
            Assert.Equal(c.Command, ours.Command);
            Assert.Equal(c.Cpu, ours.Cpu);
            Assert.True(ours.Warnings.Count == 0, $"PID {c.Pid}: {string.Join("; ", ours.Warnings)}");
            diffs.AddRange(Compare(c, ours, k));
        }
        Assert.Empty(diffs);
    }

    /// <summary>
    /// Rule (4) of <see cref="Compare"/> forgives crash a difference only with a proof from the stack memory: on the
    /// sample (Linux 6.1, where crash 8.0.6 and we agree on every task), a crash trace with a frame left out or a
    /// stale word added between two frames is proven wrong, while our trace with a frame left out or a stale word
    /// added is reported (the ORC step of the frame below lands elsewhere).
    /// </summary>
    [SampleFact]
    public void CrashDifferencesAreForgivenOnlyWhenTheStackMemoryProvesThem()
    {
        var (v, k) = Open(Path.Combine(TestEnvironment.SamplesDir, "vmcore.kdump"));
        using var _ = v;
        int checkedTraces = 0;
        foreach (var c in CrashBtText.Parse(File.ReadAllText(Here("crash-foreach-bt-sample.txt"))))
        {
            var ours = Trace(v, k, c.Task);
            Assert.Empty(Compare(c, ours, k));
            if (ours.Frames.Count != c.Frames.Count) continue; // the panic task: our live notifier frames above crash's first
            // a middle frame whose step in and out is a plain call (not the registers of an entry) and whose callee's
            // caller slot the stack memory tells (not the first frame of a sleeping task, whose BP is in its saved frame)
            int m = Enumerable.Range(1, Math.Max(0, ours.Frames.Count - 3)).FirstOrDefault(x => ours.Frames[x].Registers is null && ours.Frames[x - 1].Registers is null
                && ours.Frames[x + 1].Registers is null && !ours.Frames[x - 1].FromRegisters && OrcCallerSlot(k, ours.Frames, x - 1) is not null);
            if (m == 0) continue;
            int cm = c.Frames.FindIndex(f => f.Sp == ours.Frames[m].StackPointer.Value);
            Assert.True(cm > 0, $"PID {c.Pid}: crash has no frame at {ours.Frames[m].StackPointer.Value:x}");
            // crash skips a frame: proven wrong
            var skipped = c with { Frames = c.Frames.Where((_, x) => x != cm).ToList() };
            var proofs = new List<string>();
            Assert.Empty(Compare(skipped, ours, k, proofs));
            Assert.Single(proofs);
            // crash lists a stale word inside a frame (between two slots): proven wrong
            ulong inside = ours.Frames[m].StackPointer.Value - 8;
            if (inside > ours.Frames[m - 1].StackPointer.Value)
            {
                var stale = c with { Frames = c.Frames.Take(cm).Append(new CrashBtFrame(0, inside, "stale_function", 0, null)).Concat(c.Frames.Skip(cm)).ToList() };
                proofs.Clear();
                Assert.Empty(Compare(stale, ours, k, proofs));
                Assert.Single(proofs);
            }
            // we skip a frame: reported
            var oursSkipped = new CrashBacktrace { Pid = ours.Pid, Task = ours.Task, Cpu = ours.Cpu, Command = ours.Command, Frames = ours.Frames.Where((_, x) => x != m).ToList() };
            Assert.NotEmpty(Compare(c, oursSkipped, k));
            // we add a frame crash does not have: reported
            var extra = new CrashFrame { Level = 0, StackPointer = new KernelAddress(inside), InstructionPointer = ours.Frames[m].InstructionPointer, Function = ours.Frames[m].Function, Offset = ours.Frames[m].Offset };
            var oursExtra = new CrashBacktrace { Pid = ours.Pid, Task = ours.Task, Cpu = ours.Cpu, Command = ours.Command, Frames = ours.Frames.Take(m).Append(extra).Concat(ours.Frames.Skip(m)).ToList() };
            if (inside > ours.Frames[m - 1].StackPointer.Value) Assert.NotEmpty(Compare(c, oursExtra, k));
            checkedTraces++;
        }
        Assert.True(checkedTraces > 40, $"only {checkedTraces} traces checked");
    }

    [SampleFact]
    public void BlockedWorkloadTasksShowTheirSystemCall()
    {
        var (v, k) = Open(Path.Combine(TestEnvironment.SamplesDir, "vmcore.kdump"));
        using var _ = v;
        using var m = TestEnvironment.LoadManifest(TestEnvironment.SamplesDir);
        var workload = m.RootElement.GetProperty("truth").GetProperty("workload");
        foreach (var p in workload.EnumerateObject())
        {
            int pid = p.Value.GetInt32();
            var tasks = BacktraceTargets.FindByPid(k, pid);
            var bt = Trace(v, k, Assert.Single(tasks));
            Assert.Equal("__schedule", bt.Frames[0].Function);
            var entry = bt.Frames[^1];
            Assert.Equal("entry_SYSCALL_64_after_hwframe", entry.Function);
            Assert.True(entry.Registers!["orig_rax"] < 512, $"{p.Name}: orig_rax {entry.Registers!["orig_rax"]}");
            Assert.Equal("do_syscall_64", bt.Frames[^2].Function);
            // The syscall's own function sits right above do_syscall_64 (__x64_sys_pause, __do_sys_wait4, ...).
            Assert.Matches("sys_|do_", bt.Frames[^3].Function);
        }
    }

    [SampleFact]
    public void AllCpusAgreeWithCrashBtA()
    {
        var (v, k) = Open(Path.Combine(TestEnvironment.SamplesDir, "vmcore.kdump"));
        using var _ = v;
        var crash = CrashBtText.Parse(File.ReadAllText(Path.Combine(TestEnvironment.SamplesDir, "crash", "bt-all.txt")));
        Assert.Equal(2, crash.Count);
        var diffs = new List<string>();
        for (int cpu = 0; cpu < 2; cpu++)
        {
            var task = BacktraceTargets.ActiveTask(k, cpu)!.Value;
            var ours = Trace(v, k, task);
            var c = crash.Single(x => x.Cpu == cpu);
            Assert.Equal(c.Task, ours.Task.Value);
            Assert.True(ours.IsActive);
            Assert.Equal(c.StackSwitches, StackSwitches(ours));
            Assert.Equal(c.ExceptionRips.Skip(c.StartsWithException ? 1 : 0), ours.Frames.Where(f => f.ExceptionLocation is not null && !f.FromRegisters).Select(f => f.ExceptionLocation!));
            diffs.AddRange(Compare(c, ours, k));
        }
        Assert.Empty(diffs);
    }

    internal static List<string> StackSwitches(CrashBacktrace bt)
    {
        var l = new List<string>();
        for (int i = 1; i < bt.Frames.Count; i++)
            if (bt.Frames[i].Stack != bt.Frames[i - 1].Stack && bt.Frames[i - 1].Stack != "task") l.Add(bt.Frames[i - 1].Stack);
        return l;
    }

    /// <summary>The kexec capture (the kernel's own /proc/vmcore) of every kernel set traces as crash's crash-kexec/ says.</summary>
    [FixtureFact]
    public void KexecCaptureAgreesWithCrash()
    {
        var diffs = new List<string>();
        foreach (var dir in TestEnvironment.FixturesDirs)
        {
            var path = Path.Combine(dir, "kexec-vmcore.elf");
            if (!File.Exists(path)) continue;
            var (v, k) = Open(path);
            using var _ = v;
            string set = Path.GetFileName(dir);
            // crash's answers must come from THIS capture (task addresses differ per boot): the generator writes them
            // when the debuginfo vmlinux is available. Without them, every task must still trace without error.
            var refDir = Path.Combine(dir, "crash-kexec");
            if (!File.Exists(Path.Combine(refDir, "bt-all.txt")))
            {
                foreach (var t in Kdump.Engine.Linux.Tasks.TaskTable.Build(k).Tasks)
                    Assert.NotEmpty(Trace(v, k, t.Task).Frames);
                continue;
            }
            if (File.Exists(Path.Combine(refDir, "foreach-bt.txt")))
            {
                var crash = CrashBtText.Parse(File.ReadAllText(Path.Combine(refDir, "foreach-bt.txt")));
                Assert.True(crash.Count > 40, $"{set}: only {crash.Count} traces in crash-kexec/foreach-bt.txt");
                foreach (var c in crash) diffs.AddRange(Compare(c, Trace(v, k, c.Task), k).Select(x => $"{set}: {x}"));
            }
            var all = CrashBtText.Parse(File.ReadAllText(Path.Combine(refDir, "bt-all.txt")));
            Assert.True(all.Count >= 2, $"{set}: only {all.Count} traces in crash-kexec/bt-all.txt");
            foreach (var c in all)
            {
                var ours = Trace(v, k, c.Task);
                Assert.True(c.StackSwitches.SequenceEqual(StackSwitches(ours)),
                    $"{set} PID {c.Pid}: stack switches {string.Join(",", c.StackSwitches)} vs ours {string.Join(",", StackSwitches(ours))}");
                diffs.AddRange(Compare(c, ours, k).Select(x => $"{set}: {x}"));
            }
        }
        Assert.Empty(diffs);
    }

    [SampleFact]
    public void ModulesEqualCrashModAndTheManifest()
    {
        var (v, k) = Open(Path.Combine(TestEnvironment.SamplesDir, "vmcore.kdump"));
        using var _ = v;
        var mods = ModuleReader.Read(k, out var warnings).Select(m => ModuleReader.ToCrashModule(m)).OrderBy(m => m.Base).ThenBy(m => m.Object).ToList();
        Assert.Empty(warnings);
        var lines = File.ReadAllLines(Path.Combine(TestEnvironment.SamplesDir, "crash", "mod.txt")).Skip(1).Where(l => l.Trim().Length > 0).ToList();
        Assert.Equal(lines.Count, mods.Count);
        for (int i = 0; i < lines.Count; i++)
        {
            var f = lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(ulong.Parse(f[0], NumberStyles.HexNumber), mods[i].Object.Value);
            Assert.Equal(f[1], mods[i].Name);
            Assert.Equal(ulong.Parse(f[2], NumberStyles.HexNumber), mods[i].Base.Value);
            Assert.Equal(ulong.Parse(f[3], CultureInfo.InvariantCulture), mods[i].Size);
            Assert.Null(mods[i].File);
        }
        using var m = TestEnvironment.LoadManifest(TestEnvironment.SamplesDir);
        var truth = m.RootElement.GetProperty("truth").GetProperty("modules").EnumerateArray().ToList();
        Assert.Equal(truth.Count, mods.Count);
        foreach (var t in truth)
        {
            var mod = mods.Single(x => x.Name == t.GetProperty("name").GetString());
            Assert.Equal(Convert.ToUInt64(t.GetProperty("address").GetString(), 16), mod.Base.Value);
            Assert.Equal(t.GetProperty("size").GetUInt64(), mod.Size + mod.InitSize);
            Assert.Equal("MODULE_STATE_LIVE", mod.State);
        }
    }

    [SampleFact]
    public void ModuleAddressesResolveToModuleSymbols()
    {
        var (v, k) = Open(Path.Combine(TestEnvironment.SamplesDir, "vmcore.kdump"));
        using var _ = v;
        var s = k.Symbolize(0xffffffffc0256230)!.Value;
        Assert.Equal("pvpanic_panic_notify", s.Symbol.Name);
        Assert.Equal("pvpanic", s.Symbol.Module);
        Assert.Equal(0x60UL, s.Offset);
        Assert.Equal(s.Symbol.Address, k.FindSymbol("pvpanic_panic_notify")!.Address);
        Assert.Null(k.Symbolize(0xffffffffc0000000)); // module area, no module there
    }

    [Fact]
    public void ModuleFilesAreFoundWithDashUnderscoreEquivalence()
    {
        var dir = Directory.CreateTempSubdirectory("kdump-mods-");
        try
        {
            Directory.CreateDirectory(Path.Combine(dir.FullName, "kernel", "drivers", "misc"));
            File.WriteAllText(Path.Combine(dir.FullName, "kernel", "drivers", "misc", "pvpanic-pci.ko.xz"), "");
            File.WriteAllText(Path.Combine(dir.FullName, "kernel", "drivers", "misc", "virtio_ring.ko"), "");
            File.WriteAllText(Path.Combine(dir.FullName, "kernel", "drivers", "misc", "virtio_ring.ko.zst"), "");
            File.WriteAllText(Path.Combine(dir.FullName, "kernel", "drivers", "misc", "notes.txt"), "");
            var idx = new ModuleFileIndex(dir.FullName);
            Assert.EndsWith("pvpanic-pci.ko.xz", idx.Find("pvpanic_pci"));
            Assert.EndsWith("virtio_ring.ko", idx.Find("virtio-ring"));
            Assert.Null(idx.Find("notes"));
            Assert.Equal(2, idx.Count);
            var ex = Assert.Throws<KdumpException>(() => new ModuleFileIndex(Path.Combine(dir.FullName, "missing")));
            Assert.Equal("ModulePathNotFound", ex.ErrorId);
        }
        finally { dir.Delete(true); }
    }
}
