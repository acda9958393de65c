using Kdump.Engine.Config;

namespace Kdump.Engine.Tests.Config;

public class RobustnessTests
{
    private static readonly string[] Fragments =
    [
        "path", "core_collector", "makedumpfile", "-d", "-c", "-F", "--message-level", "\"", "'", "#", "=", "crashkernel=",
        "options", "kernel", "title", "GRUB_CMDLINE_LINUX=", "USE_KDUMP=", "SSH=", "NFS=", "ssh", "raw", "nfs", "xfs",
        "dracut_args", "--mount", "@", ",", ":", "-", "G", "M", "0x", "99999999999999999999", "\t", " ", "\n", "\r\n", "\\", "\0", "é",
    ];

    [Fact]
    public void GarbageConfigurationNeverEscapesAsARawException()
    {
        var rng = new Random(1234);
        for (int round = 0; round < 30; round++)
        {
            using var t = new ConfigTree();
            foreach (string file in new[] { "/etc/kdump.conf", "/etc/default/grub", "/boot/loader/entries/x.conf", "/boot/grub/grub.conf", "/proc/cmdline", "/proc/iomem" })
            {
                if (round % 3 == 0 && file == "/etc/kdump.conf") { t.Write("/etc/default/kdump-tools", Garbage(rng)); continue; }
                t.Write(file, Garbage(rng));
            }
            var opts = new KdumpConfigTestOptions { MemoryBytes = (ulong)rng.NextInt64(1, long.MaxValue), MakedumpfileProbe = () => null };
            try
            {
                KdumpConfigReader.Read(t.Root);
                KdumpConfigValidator.Test(t.Root, opts);
                KdumpStatusReader.Read(t.Root, new KdumpStatusOptions { ServiceState = _ => null });
                KdumpConfigEditor.Set(t.Root, new KdumpConfigUpdate { DumpLevel = 17, Compression = DumpCompression.Zstd, CrashKernel = "256M", Path = "/x" },
                    EngineHost.Null, opts, force: true);
                KdumpConfigReader.Read(t.Root);
            }
            catch (KdumpException) { }
        }
    }

    private static string Garbage(Random rng)
    {
        var sb = new System.Text.StringBuilder();
        int n = rng.Next(0, 80);
        for (int i = 0; i < n; i++) sb.Append(Fragments[rng.Next(Fragments.Length)]).Append(rng.Next(4) == 0 ? " " : "");
        return sb.ToString();
    }
}
