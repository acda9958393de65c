using System.Diagnostics;
using System.Text;
using Kdump.Engine.Config;

namespace Kdump.Engine.Tests.Config;

public class EditorTests
{
    private static readonly KdumpConfigTestOptions Options = new()
    {
        MemoryBytes = 8UL << 30, Architecture = "x86_64",
        MakedumpfileProbe = () => new MakedumpfileCapabilities { Version = "1.7.5", Lzo = true, Snappy = true, Zstd = true },
    };

    private static IReadOnlyList<KdumpConfigChange> Set(ConfigTree t, KdumpConfigUpdate u, EngineHost? host = null, bool force = false, AtomicFileWriter? writer = null) =>
        KdumpConfigEditor.Set(ConfigSnapshot.Load(new HostRoot(t.Root)), u, host ?? EngineHost.Null, Options, force, writer ?? new AtomicFileWriter());

    /// <summary>Asserts that only the given files changed, and within them only the given (1-based) lines.</summary>
    private static void AssertOnlyLinesChanged(Dictionary<string, byte[]> before, ConfigTree t, params (string File, int[] Lines)[] expected)
    {
        var after = t.Snapshot();
        foreach (var (rel, bytes) in before)
        {
            var exp = expected.FirstOrDefault(e => e.File.TrimStart('/') == rel);
            if (exp.File is null) { Assert.True(bytes.AsSpan().SequenceEqual(after[rel]), $"{rel} changed"); continue; }
            var a = Encoding.Latin1.GetString(bytes).Split('\n');
            var b = Encoding.Latin1.GetString(after[rel]).Split('\n');
            for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
                if (!exp.Lines.Contains(i + 1)) Assert.True(a[i] == b[i], $"{rel}:{i + 1} changed: '{a[i]}' -> '{b[i]}'");
        }
    }

    [Fact]
    public void SetsPathChangingOnlyThatLineAndKeepsABackup()
    {
        using var t = new ConfigTree("rhel6");
        Directory.CreateDirectory(t.P("/srv/crash"));
        var before = t.Snapshot();
        var changes = Set(t, new KdumpConfigUpdate { Path = "/srv/crash" });
        var c = Assert.Single(changes);
        Assert.Equal(t.P("/etc/kdump.conf"), c.File);
        Assert.Equal(21, c.Line);
        Assert.Equal("path /var/crash", c.Old);
        Assert.Equal("path /srv/crash", c.New);
        AssertOnlyLinesChanged(before, t, ("/etc/kdump.conf", [21]), ("/etc/kdump.conf.bak", []));
        Assert.Equal(before["etc/kdump.conf"], t.Bytes("/etc/kdump.conf.bak"));
        Assert.Equal("/srv/crash", KdumpConfigReader.Read(t.Root).Path);
        Assert.Empty(Directory.GetFiles(t.P("/etc"), ".*.tmp"));
    }

    [Fact]
    public void SecondIdenticalCallChangesNothingAndSaysSo()
    {
        using var t = new ConfigTree("rhel6");
        var u = new KdumpConfigUpdate { Compression = DumpCompression.Lzo, DumpLevel = 17 };
        Assert.Single(Set(t, u));
        var before = t.Snapshot();
        var verbose = new List<string>();
        Assert.Empty(Set(t, u, new EngineHost { Verbose = verbose.Add }));
        Assert.Contains(verbose, v => v.Contains("nothing to change"));
        AssertOnlyLinesChanged(before, t);
        Assert.Contains("core_collector makedumpfile -l --message-level 1 -d 17", t.Read("/etc/kdump.conf"));
    }

    [Fact]
    public void WhatIfDescribesTheChangeAndWritesNothing()
    {
        using var t = new ConfigTree("rhel6");
        var before = t.Snapshot();
        var asked = new List<(string Target, string Action)>();
        var changes = Set(t, new KdumpConfigUpdate { Path = "/var/crash2" }, new EngineHost { ShouldProcess = (tg, a) => { asked.Add((tg, a)); return false; } });
        Assert.Empty(changes);
        var q = Assert.Single(asked);
        Assert.Equal(t.P("/etc/kdump.conf"), q.Target);
        Assert.Contains("-   21: path /var/crash", q.Action);
        Assert.Contains("+   21: path /var/crash2", q.Action);
        Assert.Equal(before.Keys.Order(), t.Snapshot().Keys.Order());
        AssertOnlyLinesChanged(before, t);
    }

    [Theory]
    [InlineData(DumpCompression.Zstd, "core_collector makedumpfile -z --message-level 1 -d 31")]
    [InlineData(DumpCompression.None, "core_collector makedumpfile --message-level 1 -d 31")]
    [InlineData(DumpCompression.Snappy, "core_collector makedumpfile -p --message-level 1 -d 31")]
    public void SetsCompression(DumpCompression c, string line)
    {
        using var t = new ConfigTree("rhel6");
        var ch = Assert.Single(Set(t, new KdumpConfigUpdate { Compression = c }));
        Assert.Equal(line, ch.New);
        Assert.Equal(22, ch.Line);
    }

    [Fact]
    public void CompressionTheHostCannotDoIsRefusedUnlessForced()
    {
        using var t = new ConfigTree("rhel6");
        var before = t.Snapshot();
        var opts = new KdumpConfigTestOptions { MemoryBytes = 8UL << 30, MakedumpfileProbe = () => new MakedumpfileCapabilities { Lzo = true } };
        var e = Assert.Throws<KdumpException>(() => KdumpConfigEditor.Set(ConfigSnapshot.Load(new HostRoot(t.Root)),
            new KdumpConfigUpdate { Compression = DumpCompression.Zstd }, EngineHost.Null, opts, false, new AtomicFileWriter()));
        Assert.Equal("KdumpConfigInvalid", e.ErrorId);
        Assert.Contains("CompressionUnsupported", e.Message);
        AssertOnlyLinesChanged(before, t);
        Assert.Single(KdumpConfigEditor.Set(ConfigSnapshot.Load(new HostRoot(t.Root)),
            new KdumpConfigUpdate { Compression = DumpCompression.Zstd }, EngineHost.Null, opts, true, new AtomicFileWriter()));
    }

    [Fact]
    public void RefusesToWriteAConfigurationWithErrors()
    {
        using var t = new ConfigTree("rhel9");
        File.AppendAllText(t.P("/etc/kdump.conf"), "link_delay 60\n");
        var before = t.Snapshot();
        var e = Assert.Throws<KdumpException>(() => Set(t, new KdumpConfigUpdate { FinalAction = "poweroff" }));
        Assert.Equal("KdumpConfigInvalid", e.ErrorId);
        Assert.Contains("DeprecatedDirective", e.Message);
        AssertOnlyLinesChanged(before, t);
    }

    [Fact]
    public void SshTargetWithoutFlattenedCollectorIsRefusedButWorksWithOne()
    {
        using var t = new ConfigTree("rhel9");
        t.Write("/root/.ssh/kdump_id_rsa", "k");
        var e = Assert.Throws<KdumpException>(() => Set(t, new KdumpConfigUpdate { Target = "ssh kdump@backup" }));
        Assert.Contains("FlattenedFormatRequired", e.Message);
        var changes = Set(t, new KdumpConfigUpdate { Target = "ssh kdump@backup", CoreCollector = "makedumpfile -F -l --message-level 7 -d 31" });
        Assert.Equal(2, changes.Count);
        var c = KdumpConfigReader.Read(t.Root);
        Assert.Equal("ssh", c.Target.Type);
        Assert.True(c.CoreCollector.Flattened);
        Assert.EndsWith("ssh kdump@backup\n", t.Read("/etc/kdump.conf"));
    }

    [Fact]
    public void ReplacesAnExistingTargetAndCommentsOutExtraOnes()
    {
        using var t = new ConfigTree();
        t.Write("/etc/kdump.conf", "  ext4 /dev/sda3   # local disk\nnfs nas:/a\npath /var/crash\n");
        var changes = Set(t, new KdumpConfigUpdate { Target = "xfs LABEL=crash" }, force: true);
        Assert.Equal("  xfs LABEL=crash   # local disk\n#nfs nas:/a\npath /var/crash\n", t.Read("/etc/kdump.conf"));
        Assert.Equal(2, changes.Count);
        Set(t, new KdumpConfigUpdate { Target = "local" }, force: true);
        Assert.True(KdumpConfigReader.Read(t.Root).Target.IsDefault);
    }

    [Fact]
    public void BadTargetIsAnArgumentError()
    {
        using var t = new ConfigTree("rhel9");
        var e = Assert.Throws<KdumpException>(() => Set(t, new KdumpConfigUpdate { Target = "ntfs /dev/sdb" }));
        Assert.Equal("TargetInvalid", e.ErrorId);
        Assert.Equal(KdumpErrorKind.InvalidArgument, e.Kind);
    }

    [Fact]
    public void FailureActionReplacesTheObsoleteDefaultLine()
    {
        using var t = new ConfigTree();
        t.Write("/etc/kdump.conf", "path /var/crash\ndefault shell\n");
        var c = Assert.Single(Set(t, new KdumpConfigUpdate { FailureAction = "reboot" }, force: true));
        Assert.Equal("default shell", c.Old);
        Assert.Equal("failure_action reboot", c.New);
    }

    [Fact]
    public void FinalActionIsAppendedWhenAbsent()
    {
        using var t = new ConfigTree("rhel9");
        var before = t.Snapshot();
        int lines = t.Read("/etc/kdump.conf").Split('\n').Length - 1;
        var c = Assert.Single(Set(t, new KdumpConfigUpdate { FinalAction = "poweroff" }));
        Assert.Null(c.Old);
        Assert.Equal(lines + 1, c.Line);
        Assert.Equal(before["etc/kdump.conf"].Concat(Encoding.ASCII.GetBytes("final_action poweroff\n")), t.Bytes("/etc/kdump.conf"));
    }

    [Fact]
    public void RoundTripKeepsEveryOtherByteCrlfNoFinalNewlineAndNonUtf8()
    {
        using var t = new ConfigTree();
        var original = new List<byte>();
        original.AddRange(Encoding.UTF8.GetBytes("# Kdump 설정\r\npath /var/crash\r\n# latin-1: "));
        original.Add(0xE9);
        original.AddRange(Encoding.ASCII.GetBytes("\r\ncore_collector makedumpfile -l -d 31\t# keep me"));
        Directory.CreateDirectory(t.P("/etc"));
        File.WriteAllBytes(t.P("/etc/kdump.conf"), original.ToArray());
        Directory.CreateDirectory(t.P("/srv"));
        Set(t, new KdumpConfigUpdate { Path = "/srv", DumpLevel = 1 });
        var expected = new List<byte>();
        expected.AddRange(Encoding.UTF8.GetBytes("# Kdump 설정\r\npath /srv\r\n# latin-1: "));
        expected.Add(0xE9);
        expected.AddRange(Encoding.ASCII.GetBytes("\r\ncore_collector makedumpfile -l -d 1\t# keep me"));
        Assert.Equal(expected.ToArray(), t.Bytes("/etc/kdump.conf"));
        Set(t, new KdumpConfigUpdate { FinalAction = "halt" });
        Assert.EndsWith("# keep me\r\nfinal_action halt\r\n", Encoding.Latin1.GetString(t.Bytes("/etc/kdump.conf")));
    }

    [Fact]
    public void CrashKernelGoesToEveryBlsEntryAndGrubDefault()
    {
        using var t = new ConfigTree("rhel9");
        var before = t.Snapshot();
        var changes = Set(t, new KdumpConfigUpdate { CrashKernel = "2G-64G:256M,64G-:512M" });
        Assert.Equal(4, changes.Count);
        var c = KdumpConfigReader.Read(t.Root);
        Assert.All(c.BootEntries, e => Assert.Equal("2G-64G:256M,64G-:512M", Assert.Single(e.CrashKernel).Value));
        string cur = "/boot/loader/entries/" + ConfigTree.BlsId("5.14.0-362.8.1.el9_3.x86_64.conf");
        string rescue = "/boot/loader/entries/" + ConfigTree.BlsId("0-rescue.conf");
        AssertOnlyLinesChanged(before, t, (cur, [5]), (cur + ".bak", []), ("/boot/loader/entries/" + ConfigTree.BlsId("5.14.0-284.11.1.el9_2.x86_64.conf"), [5]),
            ("/boot/loader/entries/" + ConfigTree.BlsId("5.14.0-284.11.1.el9_2.x86_64.conf.bak"), []),
            (rescue, [5]), (rescue + ".bak", []), ("/etc/default/grub", [6]), ("/etc/default/grub.bak", []));
        Assert.Contains("options root=/dev/mapper/rhel-root ro crashkernel=2G-64G:256M,64G-:512M resume=", t.Read(cur));
        Assert.EndsWith("rhgb quiet crashkernel=2G-64G:256M,64G-:512M\n", t.Read(rescue).Split("grub_users")[0]);
    }

    [Fact]
    public void KernelLimitsCrashKernelToOneEntry()
    {
        using var t = new ConfigTree("rhel9");
        var before = t.Snapshot();
        var c = Assert.Single(Set(t, new KdumpConfigUpdate { CrashKernel = "crashkernel=512M", Kernel = "5.14.0-362*" }));
        Assert.Equal(t.P("/boot/loader/entries/" + ConfigTree.BlsId("5.14.0-362.8.1.el9_3.x86_64.conf")), c.File);
        Assert.Equal(5, c.Line);
        var e = Assert.Throws<KdumpException>(() => Set(t, new KdumpConfigUpdate { CrashKernel = "512M", Kernel = "4.18*" }));
        Assert.Equal("KernelEntryNotFound", e.ErrorId);
    }

    [Fact]
    public void CrashKernelOnLegacyGrubConfKernelLines()
    {
        using var t = new ConfigTree("rhel6");
        var before = t.Snapshot();
        var changes = Set(t, new KdumpConfigUpdate { CrashKernel = "128M" });
        Assert.Equal([16, 20], changes.Select(c => c.Line));
        AssertOnlyLinesChanged(before, t, ("/boot/grub/grub.conf", [16, 20]), ("/boot/grub/grub.conf.bak", []));
        Assert.Contains("SYSFONT=latarcyrheb-sun16 crashkernel=128M rd_LVM_LV", t.Read("/boot/grub/grub.conf"));
        Assert.Contains("#          kernel /vmlinuz-version ro root=/dev/mapper/vg_elserver1-lv_root\n", t.Read("/boot/grub/grub.conf"));
    }

    [Fact]
    public void CrashKernelOnDebianChangesTheDropInAndKeepsShellReferences()
    {
        using var t = new ConfigTree("debian");
        var before = t.Snapshot();
        var c = Assert.Single(Set(t, new KdumpConfigUpdate { CrashKernel = "512M-:192M" }));
        Assert.Equal("GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT crashkernel=512M-:192M\"", c.New);
        AssertOnlyLinesChanged(before, t, ("/etc/default/grub.d/kdump-tools.cfg", [1]), ("/etc/default/grub.d/kdump-tools.cfg.bak", []));
    }

    [Fact]
    public void CrashKernelGoesToGrubCmdlineLinuxWhenNoneHasIt()
    {
        using var t = new ConfigTree("debian");
        File.Delete(t.P("/etc/default/grub.d/kdump-tools.cfg"));
        var c = Assert.Single(Set(t, new KdumpConfigUpdate { CrashKernel = "1G,high 128M,low" }));
        Assert.Equal("GRUB_CMDLINE_LINUX=\"crashkernel=1G,high crashkernel=128M,low\"", c.New);
        Assert.Equal(10, c.Line);
    }

    [Theory]
    [InlineData("auto")]
    [InlineData("128Q")]
    [InlineData("   ")]
    public void InvalidCrashKernelIsAnArgumentError(string value)
    {
        using var t = new ConfigTree("rhel9");
        var e = Assert.Throws<KdumpException>(() => Set(t, new KdumpConfigUpdate { CrashKernel = value }));
        Assert.Equal("CrashKernelInvalid", e.ErrorId);
    }

    [Fact]
    public void DebianSettingsEditTheShellVariables()
    {
        using var t = new ConfigTree("debian");
        Directory.CreateDirectory(t.P("/srv/crash"));
        var before = t.Snapshot();
        var changes = Set(t, new KdumpConfigUpdate { Path = "/srv/crash", DumpLevel = 17, Target = "nfs nas:/export/crash" });
        string text = t.Read("/etc/default/kdump-tools");
        Assert.Contains("\nKDUMP_COREDIR=\"/srv/crash\"\n", text);
        Assert.Contains("#MAKEDUMP_ARGS=\"-c -d 31\"\nMAKEDUMP_ARGS=\"-c -d 17\"\n", text);
        Assert.Contains("#NFS=\"<nfs mount>\"\nNFS=\"nas:/export/crash\"\n", text);
        Assert.Equal(3, changes.Count);
        var c = KdumpConfigReader.Read(t.Root);
        Assert.Equal("/srv/crash", c.Path);
        Assert.Equal(17, c.CoreCollector.DumpLevel);
        Assert.Equal("nfs", c.Target.Type);
        // a second edit of MAKEDUMP_ARGS changes it in place
        var ch = Assert.Single(Set(t, new KdumpConfigUpdate { Compression = DumpCompression.Lzo }));
        Assert.Equal("MAKEDUMP_ARGS=\"-l -d 17\"", ch.New);
    }

    [Fact]
    public void DebianRejectsWhatKdumpToolsCannotDo()
    {
        using var t = new ConfigTree("debian");
        Assert.Equal("SettingNotSupported", Assert.Throws<KdumpException>(() => Set(t, new KdumpConfigUpdate { FinalAction = "halt" })).ErrorId);
        Assert.Equal("TargetNotSupported", Assert.Throws<KdumpException>(() => Set(t, new KdumpConfigUpdate { Target = "xfs /dev/sdb1" })).ErrorId);
        Assert.Equal("SettingNotSupported", Assert.Throws<KdumpException>(() => Set(t, new KdumpConfigUpdate { CoreCollector = "cp" })).ErrorId);
    }

    [Fact]
    public void NoConfigurationMeansNotFound()
    {
        using var t = new ConfigTree();
        Assert.Equal("KdumpConfigNotFound", Assert.Throws<KdumpException>(() => Set(t, new KdumpConfigUpdate { Path = "/x" })).ErrorId);
        Assert.Equal("BootConfigNotFound", Assert.Throws<KdumpException>(() => Set(t, new KdumpConfigUpdate { CrashKernel = "256M" })).ErrorId);
    }

    [Fact]
    public void DiskFullMidwayLeavesEveryOriginalWhole()
    {
        using var t = new ConfigTree("rhel9");
        var before = t.Snapshot();
        int writes = 0;
        var writer = new AtomicFileWriter
        {
            WriteContent = (s, data) =>
            {
                if (++writes == 5) { s.Write(data, 0, data.Length / 2); throw new IOException("No space left on device"); }
                s.Write(data);
            },
        };
        var e = Assert.Throws<KdumpException>(() => Set(t, new KdumpConfigUpdate { CrashKernel = "512M" }, writer: writer));
        Assert.Equal("ConfigWriteFailed", e.ErrorId);
        Assert.Equal(KdumpErrorKind.WriteError, e.Kind);
        Assert.True(writes >= 5);
        var after = t.Snapshot();
        Assert.Equal(before.Keys.Order(), after.Keys.Order());      // no temp file, no backup left behind
        AssertOnlyLinesChanged(before, t);
    }

    [Fact]
    public void ReadOnlyDirectoryLeavesTheOriginalWhole()
    {
        using var t = new ConfigTree("rhel6");
        var before = t.Snapshot();
        var writer = new AtomicFileWriter { CreateTemp = p => throw new UnauthorizedAccessException($"Access to the path '{p}' is denied.") };
        var e = Assert.Throws<KdumpException>(() => Set(t, new KdumpConfigUpdate { Path = "/var/crash" + "2" }, writer: writer));
        Assert.Equal("ConfigWriteDenied", e.ErrorId);
        Assert.Equal(KdumpErrorKind.PermissionDenied, e.Kind);
        AssertOnlyLinesChanged(before, t);
        Assert.Equal(before.Keys.Order(), t.Snapshot().Keys.Order());
    }

    [Fact]
    public void ModeAndOwnerAreKept()
    {
        using var t = new ConfigTree("rhel6");
        string conf = t.P("/etc/kdump.conf");
        File.SetUnixFileMode(conf, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        bool root = Environment.UserName == "root";
        if (root) Run("chown", "1234:2345", conf);
        Set(t, new KdumpConfigUpdate { Path = "/var/crash2" });
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(conf));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(conf + ".bak"));
        string expectedOwner = root ? "1234:2345" : Run("stat", "-c", "%u:%g", t.P("/etc")).Trim();
        Assert.Equal(expectedOwner, Run("stat", "-c", "%u:%g", conf).Trim());
    }

    [Fact]
    public void AFileChangedSinceItWasReadIsNotOverwritten()
    {
        using var t = new ConfigTree("rhel6");
        var host = new EngineHost { ShouldProcess = (target, _) => { File.AppendAllText(target, "extra_modules gfs2\n"); return true; } };
        var e = Assert.Throws<KdumpException>(() => Set(t, new KdumpConfigUpdate { Path = "/var/crash2" }, host));
        Assert.Equal("ConfigFileChanged", e.ErrorId);
        Assert.EndsWith("extra_modules gfs2\n", t.Read("/etc/kdump.conf"));
        Assert.Contains("path /var/crash\n", t.Read("/etc/kdump.conf"));
    }

    [Theory]
    [InlineData("relative/path")]
    [InlineData("/var/crash # sneaky")]
    public void BadValuesAreArgumentErrors(string path)
    {
        using var t = new ConfigTree("rhel9");
        var e = Assert.Throws<KdumpException>(() => Set(t, new KdumpConfigUpdate { Path = path }));
        Assert.Equal(KdumpErrorKind.InvalidArgument, e.Kind);
    }

    private static string Run(string exe, params string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        return o;
    }
}

public class EditorLinkTests
{
    [Fact]
    public void ASymlinkedFileIsEditedThroughTheLinkAndStaysALink()
    {
        using var t = new ConfigTree("rhel6");
        File.Move(t.P("/etc/kdump.conf"), t.P("/etc/kdump.conf.real"));
        File.CreateSymbolicLink(t.P("/etc/kdump.conf"), "kdump.conf.real");
        KdumpConfigEditor.Set(t.Root, new KdumpConfigUpdate { FinalAction = "halt" }, EngineHost.Null,
            new KdumpConfigTestOptions { MemoryBytes = 4UL << 30, MakedumpfileProbe = () => null });
        Assert.NotNull(new FileInfo(t.P("/etc/kdump.conf")).LinkTarget);
        Assert.EndsWith("final_action halt\n", File.ReadAllText(t.P("/etc/kdump.conf.real")));
        Assert.True(File.Exists(t.P("/etc/kdump.conf.real.bak")));
    }

    [Fact]
    public void ALinkLeavingTheRootIsNotWritten()
    {
        using var outside = new ConfigTree("rhel6");
        using var t = new ConfigTree();
        Directory.CreateDirectory(t.P("/etc"));
        File.CreateSymbolicLink(t.P("/etc/kdump.conf"), outside.P("/etc/kdump.conf"));
        string before = File.ReadAllText(outside.P("/etc/kdump.conf"));
        var e = Assert.Throws<KdumpException>(() => KdumpConfigEditor.Set(t.Root, new KdumpConfigUpdate { FinalAction = "halt" }, EngineHost.Null,
            new KdumpConfigTestOptions { MemoryBytes = 4UL << 30, MakedumpfileProbe = () => null }, force: true));
        Assert.Equal("ConfigLinkOutsideRoot", e.ErrorId);
        Assert.Equal(before, File.ReadAllText(outside.P("/etc/kdump.conf")));
    }
}
