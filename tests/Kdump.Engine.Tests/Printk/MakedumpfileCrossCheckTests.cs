using System.Diagnostics;
using System.Text;
using Kdump.Engine.Linux.Printk;

namespace Kdump.Engine.Tests.Printk;

/// <summary>A fact that needs makedumpfile (KDUMP_MAKEDUMPFILE, or /usr/sbin|/usr/bin/makedumpfile).</summary>
public sealed class MakedumpfileFactAttribute : FactAttribute
{
    public MakedumpfileFactAttribute() { if (MakedumpfileCrossCheckTests.Makedumpfile is null) Skip = "makedumpfile is not installed"; }
}

/// <summary>
/// Writes synthetic rings into an ELF vmcore, runs <c>makedumpfile --dump-dmesg</c> on it and compares its output
/// byte for byte with the engine's lines: the formatting (escapes, indentation, caller ids) and the walk (wrap-around,
/// skipped descriptors) are checked against the real tool, not against our reading of its source.
/// </summary>
public class MakedumpfileCrossCheckTests
{
    public static string? Makedumpfile { get; } = Find();

    private static string? Find()
    {
        if (Environment.GetEnvironmentVariable("KDUMP_MAKEDUMPFILE") is { Length: > 0 } e) return File.Exists(e) ? e : null;
        foreach (var p in new[] { "/usr/sbin/makedumpfile", "/usr/bin/makedumpfile" }) if (File.Exists(p)) return p;
        return null;
    }

    /// <summary>Runs makedumpfile --dump-dmesg and returns its output file's bytes, or throws with its messages.</summary>
    internal static byte[] RunDumpDmesg(string vmcore, string? outputDir = null)
    {
        string log = Path.Combine(outputDir ?? Path.GetDirectoryName(vmcore)!, $"{Path.GetFileName(vmcore)}.{Environment.ProcessId}.dmesg");
        File.Delete(log);
        var psi = new ProcessStartInfo(Makedumpfile!) { RedirectStandardError = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add("--dump-dmesg");
        psi.ArgumentList.Add(vmcore);
        psi.ArgumentList.Add(log);
        using var p = Process.Start(psi)!;
        string stdout = p.StandardOutput.ReadToEnd(), stderr = p.StandardError.ReadToEnd();
        if (!p.WaitForExit(60_000)) { p.Kill(); throw new TimeoutException("makedumpfile did not finish"); }
        if (p.ExitCode != 0 || !File.Exists(log)) throw new Xunit.Sdk.XunitException($"makedumpfile failed ({p.ExitCode}): {stdout}\n{stderr}");
        try { return File.ReadAllBytes(log); }
        finally { File.Delete(log); }
    }

    private static string Ours(IEnumerable<CrashLogRecord> records)
    {
        var sb = new StringBuilder();
        foreach (var r in records) sb.Append(r.ToString()).Append('\n');
        return sb.ToString();
    }

    /// <summary>Which format this makedumpfile prints for a kernel exporting caller ids: learnt from its output.</summary>
    private static CrashLogFormat FormatFor(byte[] output) =>
        Encoding.ASCII.GetString(output).Contains("] [") ? CrashLogFormat.WithCallerId : CrashLogFormat.Default;

    private const ulong UtsNs = 0xffffffff82a30000;

    /// <summary>makedumpfile checks init_uts_ns.name.release against OSRELEASE before it reads anything else.</summary>
    internal static void AddUtsname(SyntheticMemory mem, string release)
    {
        mem.Zero(UtsNs, 6 * 65);
        mem.Write(UtsNs, Encoding.ASCII.GetBytes("Linux"));
        mem.Write(UtsNs + 65, Encoding.ASCII.GetBytes("guest"));
        mem.Write(UtsNs + 130, Encoding.ASCII.GetBytes(release));
    }

    private const ulong Pml4 = 0xffffffff82f00000;
    private const ulong MemMap = 0xffffffff82a30800;

    /// <summary>
    /// makedumpfile translates even kernel-image addresses through init_top_pgt: map the first 1 GiB of the kernel
    /// image (0xffffffff80000000 → physical 0) with 2 MiB pages.
    /// </summary>
    internal static void AddPageTables(SyntheticMemory mem)
    {
        ulong pml4 = Pml4, pdpt = Pml4 + 0x1000, pd = Pml4 + 0x2000;
        ulong Phys(ulong va) => va - ElfCoreWriter.StartKernelMap;
        mem.WriteU64(MemMap, 0xffffea0000000000);
        mem.Zero(pml4, 3 * 4096);
        mem.WriteU64(pml4 + 511 * 8, Phys(pdpt) | 0x3);
        mem.WriteU64(pdpt + 510 * 8, Phys(pd) | 0x3);
        for (ulong i = 0; i < 512; i++) mem.WriteU64(pd + i * 8, (i << 21) | 0x83);
    }

    private static void AssertSame(LocklessRingBuilder b, string name) => AssertSame(b.VmcoreInfo(), b.Build(), "6.1.0-57-amd64", name);

    private static void AssertSame(Kdump.Engine.Dump.VmcoreInfo vi, SyntheticMemory mem, string release, string name)
    {
        string dir = Directory.CreateTempSubdirectory("kdump-printk-").FullName;
        try
        {
            string core = Path.Combine(dir, name + ".elf");
            AddUtsname(mem, release);
            AddPageTables(mem);
            ElfCoreWriter.Write(core, mem, vi.RawText + $"SYMBOL(init_uts_ns)={UtsNs:x}\nOFFSET(uts_namespace.name)=0\n" +
                $"SYMBOL(init_top_pgt)={Pml4:x}\nNUMBER(pgtable_l5_enabled)=0\nNUMBER(phys_base)=0\n" +
                $"SYMBOL(mem_map)={MemMap:x}\nSIZE(page)=64\nOFFSET(page.flags)=0\nOFFSET(page._refcount)=52\nOFFSET(page.mapping)=24\nOFFSET(page.lru)=8\n");
            byte[] theirs = RunDumpDmesg(core);
            var warnings = new List<PrintkWarning>();
            string ours = Ours(PrintkLog.EnumerateRecords(vi, mem.Read, null, FormatFor(theirs), warnings.Add));
            Assert.Equal(Encoding.ASCII.GetString(theirs), ours);
            Assert.Empty(warnings);
        }
        finally { if (Environment.GetEnvironmentVariable("KDUMP_KEEP_TEMP") is null) Directory.Delete(dir, true); }
    }

    [MakedumpfileFact]
    public void PlainRecordsMatch()
    {
        var b = new LocklessRingBuilder(5, 12);
        b.Add("Linux version 6.1.0-57-amd64 (debian-kernel@lists.debian.org)", level: 5, ts: 0, caller: 0);
        b.Add("Command line: console=ttyS0 crashkernel=192M", ts: 1_000, caller: 0);
        b.Add("sysrq: Trigger a crash", level: 6, ts: 9_876_543_210_987, caller: 0x80000001);
        b.Add("a record at more than 99999 seconds", ts: 123_456_789_000_000_000, caller: 4_194_304);
        AssertSame(b, "plain");
    }

    [MakedumpfileFact]
    public void EscapesAndContinuationLinesMatch()
    {
        var b = new LocklessRingBuilder(5, 12);
        b.Add("multi\nline\nrecord\n", ts: 12_000_000, caller: 321);
        b.Add(new byte[] { (byte)'c', 0x01, 0x1b, (byte)'[', (byte)'m', (byte)'\t', (byte)'\r', 0x0b, 0x0c, 0x7f, 0x80, 0xc3, 0xa9, 0xff, (byte)'!' }, ts: 13_000_000, caller: 1);
        b.Add("trailing spaces   ", ts: 14_000_000, caller: 2);
        AssertSame(b, "escapes");
    }

    [MakedumpfileFact]
    public void WrappedRingMatches()
    {
        var b = new LocklessRingBuilder(6, 11);
        var rnd = new Random(3);
        for (int i = 0; i < 300; i++) b.Add($"wrap {i}: " + new string((char)('A' + i % 26), rnd.Next(0, 100)), ts: (ulong)i * 3_000_017, caller: (uint)i);
        Assert.True(b.Wraps > 5);
        AssertSame(b, "wrapped");
    }

    [MakedumpfileFact]
    public void LogBufLayoutMatches()
    {
        var b = new LogBufBuilder(4096);
        for (int i = 0; i < 400; i++)
            b.Add($"old layout {i}" + (i % 7 == 0 ? "\nsecond line" : "") + new string('.', i % 40), level: i % 8, ts: (ulong)i * 1_000_003,
                  dict: i % 5 == 0 ? "SUBSYSTEM=pci\0DEVICE=+pci:0000:00:01.0" : "");
        Assert.True(b.Wraps > 1);
        AssertSame(b.VmcoreInfo(), b.Build(), "5.4.0", "logbuf");
    }
}
