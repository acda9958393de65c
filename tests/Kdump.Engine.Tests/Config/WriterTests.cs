using System.Diagnostics;
using System.Runtime.InteropServices;
using Kdump.Engine.Config;

namespace Kdump.Engine.Tests.Config;

/// <summary>Issue 10 items 7 and 8: all-or-none writes that say what changed, stale temps, xattrs, hard links, backups.</summary>
public partial class WriterTests
{
    private static readonly KdumpConfigTestOptions Options = new() { MemoryBytes = 8UL << 30, Architecture = "x86_64", MakedumpfileProbe = () => null };

    private static IReadOnlyList<KdumpConfigChange> Set(ConfigTree t, KdumpConfigUpdate u, AtomicFileWriter? writer = null, EngineHost? host = null) =>
        KdumpConfigEditor.Set(ConfigSnapshot.Load(new HostRoot(t.Root)), u, host ?? EngineHost.Null, Options, true, writer ?? new AtomicFileWriter());

    private static void AssertUnchanged(Dictionary<string, byte[]> before, ConfigTree t)
    {
        var after = t.Snapshot();
        Assert.Equal(before.Keys.Order(), after.Keys.Order());   // no temp file or backup left behind either
        foreach (var (k, v) in before) Assert.True(v.AsSpan().SequenceEqual(after[k]), $"{k} changed");
    }

    private static string LastBls(ConfigTree t) =>
        Directory.GetFiles(t.P("/boot/loader/entries"), "*.conf").Order(StringComparer.Ordinal).Last();

    [Fact]
    public void AnImmutableBlsEntryLeavesEveryFileAsItWasAndTheErrorSaysSo()
    {
        using var t = new ConfigTree("rhel9");
        string bls = LastBls(t);
        if (!Chattr("+i", bls)) return;   // needs root on a file system with attributes (ext4, xfs, btrfs)
        try
        {
            var before = t.Snapshot();
            var e = Assert.Throws<KdumpException>(() => Set(t, new KdumpConfigUpdate { CrashKernel = "512M" }));
            Assert.Equal("ConfigWriteDenied", e.ErrorId);
            Assert.Equal(bls, e.Target);
            Assert.Matches("put back as they were: [^.]*" + System.Text.RegularExpressions.Regex.Escape(t.P("/etc/default/grub")), e.Message);
            Assert.EndsWith("No file was changed.", e.Message);
            AssertUnchanged(before, t);
        }
        finally { Chattr("-i", bls); }
    }

    [Fact]
    public void AFailedRenameMidwayRollsBackTheFilesAlreadyReplaced()
    {
        using var t = new ConfigTree("rhel9");
        var before = t.Snapshot();
        string bls = LastBls(t);
        var writer = new AtomicFileWriter
        {
            Replace = (from, to) =>
            {
                if (to == bls && !from.EndsWith(".bak", StringComparison.Ordinal)) throw new IOException("Operation not permitted");
                File.Move(from, to, overwrite: true);
            },
        };
        var e = Assert.Throws<KdumpException>(() => Set(t, new KdumpConfigUpdate { CrashKernel = "512M" }, writer));
        Assert.Equal("ConfigWriteFailed", e.ErrorId);
        Assert.DoesNotContain("unchanged", e.Message);
        Assert.Contains(t.P("/etc/default/grub"), e.Message);
        Assert.EndsWith("No file was changed.", e.Message);
        AssertUnchanged(before, t);
    }

    [Fact]
    public void WhenTheRollbackFailsTooTheErrorNamesTheChangedFile()
    {
        using var t = new ConfigTree("rhel9");
        string grub = t.P("/etc/default/grub");
        string bls = LastBls(t);
        int grubReplaced = 0;
        var writer = new AtomicFileWriter
        {
            Replace = (from, to) =>
            {
                if (to == bls) throw new IOException("Operation not permitted");
                if (to == grub && ++grubReplaced == 2) throw new IOException("Input/output error");   // the put-back fails
                File.Move(from, to, overwrite: true);
            },
        };
        var e = Assert.Throws<KdumpException>(() => Set(t, new KdumpConfigUpdate { CrashKernel = "512M" }, writer));
        Assert.Equal("ConfigPartiallyWritten", e.ErrorId);
        Assert.Equal(grub, e.Target);
        Assert.Contains("CHANGED and could not be put back: " + grub, e.Message);
        Assert.DoesNotContain("No file was changed", e.Message);
        Assert.Contains("crashkernel=512M", File.ReadAllText(grub));
        // the original of the changed file is kept where the message says
        Assert.Contains("crashkernel=1G-4G:192M", File.ReadAllText(grub + ".bak"));
        Assert.Contains(grub + ".bak", e.Message);
        Assert.Empty(Directory.GetFiles(t.P("/etc/default"), ".*.tmp"));
        Assert.Empty(Directory.GetFiles(t.P("/boot/loader/entries"), ".*.tmp"));
    }

    [Fact]
    public void StaleTempFilesOfOursAreRemovedOnTheNextRunAndNothingElse()
    {
        using var t = new ConfigTree("rhel6");
        string etc = t.P("/etc");
        string deadPid = Path.Combine(etc, ".kdump.conf.kdump-2147483600-0123456789ab.tmp");
        string livePid = Path.Combine(etc, ".kdump.conf.kdump-1-0123456789ab.tmp");
        string legacyOld = Path.Combine(etc, ".kdump.conf.abcdef012345.tmp");
        string legacyNew = Path.Combine(etc, ".kdump.conf.fedcba543210.tmp");
        string foreign = Path.Combine(etc, ".kdump.conf.swp.tmp");
        string otherFile = Path.Combine(etc, ".passwd.kdump-2147483600-0123456789ab.tmp");
        foreach (var f in new[] { deadPid, livePid, legacyOld, legacyNew, foreign, otherFile }) File.WriteAllText(f, "x");
        File.SetLastWriteTimeUtc(legacyOld, DateTime.UtcNow.AddHours(-2));
        var log = new List<string>();
        Set(t, new KdumpConfigUpdate { Path = "/var/crash2" }, new AtomicFileWriter { Log = log.Add });
        Assert.False(File.Exists(deadPid));
        Assert.False(File.Exists(legacyOld));
        Assert.True(File.Exists(livePid));
        Assert.True(File.Exists(legacyNew));
        Assert.True(File.Exists(foreign));
        Assert.True(File.Exists(otherFile));
        Assert.Equal(2, log.Count(l => l.StartsWith("Removed ", StringComparison.Ordinal)));
    }

    [Fact]
    public void AKilledRunLeavesOnlyFilesTheNextRunCleans()
    {
        // a run killed after staging: its temps carry a pid that no longer runs
        using var t = new ConfigTree("rhel9");
        var psi = new ProcessStartInfo("true");
        using var p = Process.Start(psi)!;
        p.WaitForExit();
        string bls = LastBls(t);
        string dir = Path.GetDirectoryName(bls)!;
        string orphan = Path.Combine(dir, "." + Path.GetFileName(bls) + $".kdump-{p.Id}-00112233aabb.tmp");
        File.WriteAllText(orphan, "half");
        Set(t, new KdumpConfigUpdate { CrashKernel = "512M" });
        Assert.Empty(Directory.GetFiles(dir, ".*.tmp"));
    }

    [Fact]
    public void TempsLeftNextToFilesNotWrittenThisTimeAreCleanedToo()
    {
        using var t = new ConfigTree("rhel9");
        string bls = LastBls(t);
        string orphan = Path.Combine(Path.GetDirectoryName(bls)!, "." + Path.GetFileName(bls) + ".kdump-2147483600-00112233aabb.tmp");
        File.WriteAllText(orphan, "half");
        Set(t, new KdumpConfigUpdate { FinalAction = "halt" });   // writes only /etc/kdump.conf
        Assert.False(File.Exists(orphan));
    }

    [Fact]
    public void ExtendedAttributesAndAclsAreKept()
    {
        using var t = new ConfigTree("rhel6");
        string conf = t.P("/etc/kdump.conf");
        if (!SetXattr(conf, "user.kdump", "kept"u8.ToArray())) return;   // file system without user xattrs
        byte[] label = "system_u:object_r:kdump_etc_t:s0\0"u8.ToArray();
        bool selinux = SetXattr(conf, "security.selinux", label);
        byte[] acl = Acl((0x01, 6, uint.MaxValue), (0x02, 4, 1234), (0x04, 4, uint.MaxValue), (0x10, 4, uint.MaxValue), (0x20, 0, uint.MaxValue));
        bool hasAcl = SetXattr(conf, "system.posix_acl_access", acl);
        var before = UnixMeta.ReadXattrs(conf).ToDictionary(x => x.Name, x => x.Value);

        Set(t, new KdumpConfigUpdate { Path = "/var/crash2" });

        Assert.Contains("path /var/crash2", File.ReadAllText(conf));
        foreach (string f in new[] { conf, conf + ".bak" })
        {
            var after = UnixMeta.ReadXattrs(f).ToDictionary(x => x.Name, x => x.Value);
            Assert.Equal("kept"u8.ToArray(), after["user.kdump"]);
            if (selinux) Assert.Equal(label, after["security.selinux"]);
            if (hasAcl) Assert.Equal(before["system.posix_acl_access"], after["system.posix_acl_access"]);
        }
    }

    [Fact]
    public void AHardLinkedFileIsRewrittenInPlaceAndStaysLinked()
    {
        using var t = new ConfigTree("rhel6");
        string conf = t.P("/etc/kdump.conf");
        string other = t.P("/etc/kdump.conf.hardlink");
        Assert.Equal(0, link(conf, other));
        string original = File.ReadAllText(conf);
        var verbose = new List<string>();
        Set(t, new KdumpConfigUpdate { Path = "/var/crash2" }, host: new EngineHost { Verbose = verbose.Add });
        Assert.Contains("path /var/crash2", File.ReadAllText(other));
        Assert.Equal(File.ReadAllText(conf), File.ReadAllText(other));
        Assert.Equal(2u, UnixMeta.Read(conf)!.Links);
        Assert.Equal(original, File.ReadAllText(conf + ".bak"));
        Assert.Contains(verbose, v => v.Contains("in place"));
        Assert.Empty(Directory.GetFiles(t.P("/etc"), ".*.tmp"));
    }

    [Fact]
    public void AFailedInPlaceWriteIsPutBack()
    {
        using var t = new ConfigTree("rhel6");
        string conf = t.P("/etc/kdump.conf");
        Assert.Equal(0, link(conf, t.P("/etc/kdump.conf.hardlink")));
        var before = File.ReadAllBytes(conf);
        int calls = 0;
        var writer = new AtomicFileWriter
        {
            Overwrite = (p, data) =>
            {
                if (++calls == 1)
                {
                    File.WriteAllBytes(p, data[..(data.Length / 2)]);
                    throw new IOException("No space left on device");
                }
                File.WriteAllBytes(p, data);
            },
        };
        var e = Assert.Throws<KdumpException>(() => Set(t, new KdumpConfigUpdate { Path = "/var/crash2" }, writer));
        Assert.Equal("ConfigWriteFailed", e.ErrorId);
        Assert.Equal(before, File.ReadAllBytes(conf));
        Assert.False(File.Exists(conf + ".bak"));
    }

    [Fact]
    public void TheFirstBackupIsKeptAndLaterOnesAreTimestamped()
    {
        using var t = new ConfigTree("rhel6");
        string conf = t.P("/etc/kdump.conf");
        string original = File.ReadAllText(conf);
        var writer = new AtomicFileWriter { Now = () => new DateTime(2026, 12, 5, 9, 30, 0) };
        Set(t, new KdumpConfigUpdate { Path = "/var/crash2" }, writer);
        string afterFirst = File.ReadAllText(conf);
        Set(t, new KdumpConfigUpdate { Path = "/var/crash3" }, writer);
        string afterSecond = File.ReadAllText(conf);
        Set(t, new KdumpConfigUpdate { Path = "/var/crash4" }, writer);
        Assert.Equal(original, File.ReadAllText(conf + ".bak"));
        Assert.Equal(afterFirst, File.ReadAllText(conf + ".bak.20261205093000"));
        Assert.Equal(afterSecond, File.ReadAllText(conf + ".bak.20261205093000.1"));
        Assert.Contains("path /var/crash4", File.ReadAllText(conf));
    }

    [Fact]
    public void EveryBackupIsOnDiskBeforeTheFirstFileIsReplaced()
    {
        using var t = new ConfigTree("rhel9");
        var before = t.Snapshot();
        var seen = new List<string>();
        var writer = new AtomicFileWriter
        {
            Replace = (from, to) =>
            {
                if (seen.Count == 0)   // the first replacement: a kill from here on must still leave the originals
                    foreach (var (rel, bytes) in before.Where(b => b.Key.EndsWith(".conf", StringComparison.Ordinal) || b.Key.EndsWith("grub", StringComparison.Ordinal)))
                        if (rel != "etc/kdump.conf") Assert.Equal(bytes, File.ReadAllBytes(t.P("/" + rel) + ".bak"));
                seen.Add(to);
                File.Move(from, to, overwrite: true);
            },
        };
        Set(t, new KdumpConfigUpdate { CrashKernel = "512M" }, writer);
        Assert.Equal(4, seen.Count);
        Assert.Empty(Directory.GetFiles(t.P("/boot/loader/entries"), ".*.tmp"));
        Assert.Empty(Directory.GetFiles(t.P("/etc/default"), ".*.tmp"));
    }

    private static bool Chattr(string flag, string path)
    {
        try
        {
            var psi = new ProcessStartInfo("chattr") { RedirectStandardError = true, RedirectStandardOutput = true };
            psi.ArgumentList.Add(flag);
            psi.ArgumentList.Add(path);
            using var p = Process.Start(psi)!;
            p.WaitForExit();
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception) { return false; }
    }

    private static byte[] Acl(params (ushort Tag, ushort Perm, uint Id)[] entries)
    {
        var b = new List<byte>(BitConverter.GetBytes(2u));
        foreach (var (tag, perm, id) in entries)
        {
            b.AddRange(BitConverter.GetBytes(tag));
            b.AddRange(BitConverter.GetBytes(perm));
            b.AddRange(BitConverter.GetBytes(id));
        }
        return b.ToArray();
    }

    private static bool SetXattr(string path, string name, byte[] value) => setxattr(path, name, value, (nuint)value.Length, 0) == 0;

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int setxattr(string path, string name, byte[] value, nuint size, int flags);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int link(string oldPath, string newPath);
}
