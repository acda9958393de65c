namespace Kdump.Engine.Tests.Dwarf;

/// <summary>Temporary folders for written ELF files, removed when the test process exits.</summary>
public static class TempFiles
{
    private static readonly string Root = Path.Combine(Path.GetTempPath(), $"kdump-elf-tests-{Environment.ProcessId}");
    private static int _next;

    static TempFiles()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
    }

    /// <summary>A new empty folder under the process's temporary root.</summary>
    public static string NewDirectory(string prefix = "d")
    {
        var d = Path.Combine(Root, $"{prefix}{Interlocked.Increment(ref _next)}");
        Directory.CreateDirectory(d);
        return d;
    }
}
