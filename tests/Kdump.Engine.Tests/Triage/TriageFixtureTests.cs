using Kdump.Engine.Dump;
using Kdump.Engine.Linux.Triage;
using Kdump.Engine.Model;
using Kdump.Engine.Tests.FixtureAgreement;
using Xunit.Abstractions;

namespace Kdump.Engine.Tests.Triage;

/// <summary>
/// Issue #13: panic signatures are equal for all dumps of one capture, across every format and producer, and
/// differ between different panics: the two sysrq-c captures (pvpanic and kexec) against the OOM-panic capture
/// (generate.sh's oom_run: vm.panic_on_oom=1, a QEMU ELF dump and a makedumpfile dump of it).
/// </summary>
[Collection(FixtureDumpsCollection.Name)]
public class TriageFixtureTests
{
    private readonly FixtureDumps _fx;
    private readonly ITestOutputHelper _out;

    public TriageFixtureTests(FixtureDumps fx, ITestOutputHelper output) { _fx = fx; _out = output; }

    private CrashTriage Triage(FixtureDump d) => _fx.Answer(d, "triage", v => TriageReader.Read(v));

    private static readonly string[] s_oomDumps = { "oom-qemu-elf.elf", "oom-mdf-zlib.kdump" };

    [FixtureFact]
    public void SignatureIsTheSameForEveryDumpOfACapture()
    {
        var byRun = _fx.Dumps.GroupBy(d => d.Run).ToList();
        Assert.True(_fx.Dumps.Count >= 10, $"only {_fx.Dumps.Count} fixture dumps");
        var all = new List<string>();
        foreach (var g in byRun)
        {
            var t = g.Select(d => (d, T: Triage(d))).ToList();
            foreach (var (d, tr) in t)
                _out.WriteLine($"{g.Key} {d.Name}: {tr.PanicClass} {tr.SignatureHash} {tr.Signature} problems {tr.Problems.Count}");
            Assert.All(t, x => Assert.Equal(TriagePanicClass.Sysrq, x.T.PanicClass));
            Assert.All(t, x => Assert.Equal(t[0].T.Signature, x.T.Signature));
            Assert.All(t, x => Assert.Equal(t[0].T.SignatureHash, x.T.SignatureHash));
            all.Add(t[0].T.SignatureHash);
            // the failing path of a sysrq crash, without the kexec or pvpanic machinery above panic()
            Assert.Equal("sysrq_handle_crash", t[0].T.SignatureFrames[0]);
            Assert.DoesNotContain(t[0].T.SignatureFrames, f => f.Contains('+', StringComparison.Ordinal) || f.Contains("0x", StringComparison.Ordinal));
        }
        // the same bug through two producers (QEMU's pvpanic pause and a kexec capture kernel): one signature
        Assert.Single(all.Distinct());
    }

    [FixtureFact]
    public void PanicTaskAndTaintAgreeWithTheGuestsTruth()
    {
        foreach (var d in _fx.Dumps)
        {
            var t = Triage(d);
            var panic = _fx.Truth(d).GetProperty("panic");
            Assert.Equal(panic.GetProperty("pid").GetInt32(), t.PanicTask?.Pid);
            Assert.Equal(panic.GetProperty("comm").GetString(), t.PanicTask?.Command);
            Assert.Equal(panic.GetProperty("cpu").GetInt32(), t.PanicCpu);
            Assert.Equal("Not tainted", t.TaintText);   // the guest's own log says so ("... Not tainted 6.1.0 ...")
            if (d.DropsPages is not null && t.OnCpu.Count < t.Cpus)
            {
                // the producer dropped task_structs: every CPU without its task must be named, with the missing page
                for (int cpu = 0; cpu < t.Cpus; cpu++)
                    if (!t.OnCpu.Any(c => c.Cpu == cpu))
                        Assert.Contains(t.Problems, p => p.StartsWith($"on-cpu: the task of CPU {cpu} ", StringComparison.Ordinal) && CrashAgreementTests.Reports(p));
            }
            else Assert.Equal(t.Cpus, t.OnCpu.Count);
            Assert.Contains(t.OnCpu, c => c.Pid == t.PanicTask!.Pid && c.Cpu == t.PanicCpu);
            Assert.Contains(t.Findings, f => f.Kind == "Sysrq");
            Assert.NotNull(t.Memory);
            Assert.True(t.Memory!.Total > 0 && t.Memory.Free < t.Memory.Total);
            Assert.Contains(t.ErrorLog, l => l.Contains("Kernel panic - not syncing: sysrq triggered crash", StringComparison.Ordinal));
        }
    }

    private List<(string Name, CrashTriage T)> OomTriages(List<Vmcore> opened)
    {
        var dir = _fx.Dir!;
        var list = new List<(string, CrashTriage)>();
        foreach (var n in s_oomDumps)
        {
            var path = Path.Combine(dir, n);
            Assert.True(File.Exists(path), $"{path} is missing: the fixtures predate generate.sh's oom_run");
            var r = Assert.Single(DumpFile.OpenAll(new[] { path }));
            if (r.Error is not null) throw r.Error;
            var v = new Vmcore(r.Dump!);
            opened.Add(v);
            list.Add((n, TriageReader.Read(v)));
        }
        return list;
    }

    [FixtureFact]
    public void OomPanicHasItsOwnClassAndSignature()
    {
        var opened = new List<Vmcore>();
        try
        {
            var oom = OomTriages(opened);
            foreach (var (n, t) in oom)
            {
                _out.WriteLine($"{n}: {t.PanicClass} {t.SignatureHash} {t.Signature}; failure: {t.FailureLine}");
                Assert.Equal(TriagePanicClass.OutOfMemory, t.PanicClass);
                Assert.StartsWith("Kernel panic - not syncing: Out of memory", t.PanicMessage, StringComparison.Ordinal);
                Assert.Contains("invoked oom-killer", t.FailureLine, StringComparison.Ordinal);
                Assert.Contains(t.Findings, f => f.Kind == "OomInvoked");
                Assert.Equal("out_of_memory", t.SignatureFrames[0]);
            }
            Assert.Equal(oom[0].T.Signature, oom[1].T.Signature);
            var sysrq = Triage(_fx.Dumps[0]);
            Assert.NotEqual(sysrq.SignatureHash, oom[0].T.SignatureHash);
            var diff = TriageReader.Compare(sysrq, oom[0].T);
            Assert.Contains(diff, x => x.Property == "PanicClass" && x.Reference == "Sysrq" && x.Difference == "OutOfMemory");
            Assert.Contains(diff, x => x.Property == "SignatureHash");
            Assert.DoesNotContain(TriageReader.Compare(oom[0].T, oom[1].T), x => x.Property is "PanicClass" or "Signature" or "SignatureHash" or "PanicMessage");
        }
        finally { foreach (var v in opened) v.Dispose(); }
    }
}
