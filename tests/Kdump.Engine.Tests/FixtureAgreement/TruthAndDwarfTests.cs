using Kdump.Engine.Dump;
using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Model;
using Kdump.Engine.Tests.Stack;
using Xunit.Abstractions;

namespace Kdump.Engine.Tests.FixtureAgreement;

/// <summary>Every fixture dump against the guest's own view of its run (tasks, descriptors, memory areas).</summary>
[Collection(FixtureDumpsCollection.Name)]
public class TruthAgreementTests
{
    private readonly FixtureDumps _fx;
    private readonly ITestOutputHelper _out;
    public TruthAgreementTests(FixtureDumps fx, ITestOutputHelper output) { _fx = fx; _out = output; }

    [FixtureFact]
    public void TasksFilesAndAreasAgreeWithTheGuestsProcView()
    {
        Assert.NotEmpty(_fx.Dumps);
        var all = new List<string>();
        foreach (var d in _fx.Dumps)
        {
            var truth = _fx.Truth(d);
            var table = _fx.Tasks(d);
            var k = _fx.Open(d).Kernel;
            int tasks = 0, fds = 0, maps = 0;
            var diffs = table.Warnings.Select(w => "ps warning: " + w).ToList();
            try
            {
                diffs.AddRange(TruthChecks.Tasks(table, truth, out tasks));
                diffs.AddRange(TruthChecks.Files(k, table, truth, out fds));
                diffs.AddRange(TruthChecks.Maps(k, table, truth, out maps));
            }
            catch (KdumpException ex) { diffs.Add($"{ex.ErrorId}: {ex.Message}"); }
            if (d.DropsPages is not null)
            {
                bool reported = diffs.Count == 0 || diffs.Any(CrashAgreementTests.Reports);
                _out.WriteLine($"{d.Id} (drops pages): {tasks} tasks, {fds} descriptors, {maps} areas; {diffs.Count} differences, {(reported ? "missing pages reported" : "NOT REPORTED")}");
                if (!reported) all.AddRange(diffs.Select(x => $"{d.Id} (drops pages, silently): {x}"));
                continue;
            }
            var panic = truth.GetProperty("panic");
            if (table.PanicTask is not { } p || p.Pid != panic.GetProperty("pid").GetInt32() || p.Command != panic.GetProperty("comm").GetString() || table.PanicCpu != panic.GetProperty("cpu").GetInt32())
                diffs.Add($"panic task {table.PanicTask?.Pid} on cpu {table.PanicCpu}, truth {panic}");
            if (tasks < 40 || fds < 14 || maps < 10) diffs.Add($"only {tasks} tasks, {fds} descriptors, {maps} areas compared");
            _out.WriteLine($"{d.Id} (run {d.Run}): {tasks} tasks, {fds} descriptors, {maps} areas; {(diffs.Count == 0 ? "agree" : diffs.Count + " differences")}");
            all.AddRange(diffs.Select(x => $"{d.Id}: {x}"));
        }
        Assert.True(all.Count == 0, string.Join(" | ", all.Take(10)));
    }
}

/// <summary>
/// ps, foreach files, foreach vm and foreach bt with the debug vmlinux's DWARF as the type source (instead of the
/// dump's BTF) on one dump of each capture: a compressed one for pvpanic (crash's own dump) and the ELF for kexec.
/// </summary>
[Collection(FixtureDumpsCollection.Name)]
public class DwarfAgreementTests
{
    private readonly FixtureDumps _fx;
    private readonly ITestOutputHelper _out;
    public DwarfAgreementTests(FixtureDumps fx, ITestOutputHelper output) { _fx = fx; _out = output; }

    [FixtureFact]
    public void PsFilesVmAndBtAgreeWithCrashUsingDwarf()
    {
        var all = new List<string>();
        int runs = 0;
        foreach (var set in _fx.Sets)
        foreach (var (run, (_, refDump)) in set.ReferenceOf)
        {
            if (set.VmlinuxDebug is null) { _out.WriteLine($"{set}: no vmlinuxDebug in the manifest: nothing to compare"); continue; }
            var d = _fx.Dumps.Single(x => x.Set == set && x.Name == refDump);
            var r = Assert.Single(DumpFile.OpenAll(d.Files));
            using var v = new Vmcore(r.Dump!);
            v.AttachVmlinux(set.VmlinuxDebug, false, TypeSourcePreference.Dwarf);
            Assert.StartsWith("DWARF", v.Kernel.TypeSourceText, StringComparison.Ordinal);
            var k = v.Kernel;
            var table = TaskTable.Build(k, v);
            var diffs = table.Warnings.Select(w => "ps warning: " + w).ToList();
            diffs.AddRange(CrashRows.Diff("ps", CrashRows.Ps(_fx.CrashText(d, "ps.txt")), CrashRows.Ps(table)));
            diffs.AddRange(CrashRows.Diff("files", CrashRows.Files(_fx.CrashText(d, "files.txt")), CrashRows.Files(k, table)));
            diffs.AddRange(CrashRows.Diff("vm", CrashRows.Vm(_fx.CrashText(d, "vm.txt")), CrashRows.Vm(k, table)));
            var proofs = new List<string>();
            foreach (var c in CrashBtText.Parse(_fx.CrashText(d, "foreach-bt.txt")))
            {
                var ours = RealBacktraceTests.Trace(v, k, c.Task);
                diffs.AddRange(ours.Warnings.Select(w => $"bt {c.Pid} warning: {w}"));
                diffs.AddRange(RealBacktraceTests.Compare(c, ours, k, proofs));
            }
            foreach (var p in proofs) _out.WriteLine($"{d.Id} with DWARF: crash is wrong: {p}");
            // and the same answers as with BTF
            var btf = _fx.Tasks(d);
            diffs.AddRange(CrashRows.Diff("ps BTF vs DWARF", CrashRows.Ps(btf), CrashRows.Ps(table)));
            _out.WriteLine($"{d.Id} (run {run}) with DWARF: {(diffs.Count == 0 ? "agrees" : diffs.Count + " differences")}");
            all.AddRange(diffs.Select(x => $"{d.Id}: {x}"));
            runs++;
        }
        if (_fx.Sets.All(s => s.VmlinuxDebug is null)) return;
        Assert.True(runs > 0);
        Assert.True(all.Count == 0, string.Join(" | ", all.Take(10)));
    }
}
