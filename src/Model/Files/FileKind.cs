using System.Runtime.InteropServices;

namespace OrleansQuant.Model.Files;

/// <summary>What a path names, asked before a file is opened: opening a FIFO for reading blocks until a writer comes.</summary>
public enum FileKind
{
    Missing,
    Regular,
    Directory,
    Fifo,
    CharacterDevice,
    BlockDevice,
    Socket,
    Other,
}

/// <summary>Finds a path's <see cref="FileKind"/> (symbolic links followed) without opening it.</summary>
public static partial class FileKinds
{
    // S_IFMT and its values: the same on Linux and macOS, and what System.Native reports in FileStatus.Mode.
    private const int TypeMask = 0xF000;
    private const int Fifo = 0x1000;
    private const int CharacterDevice = 0x2000;
    private const int Directory = 0x4000;
    private const int BlockDevice = 0x6000;
    private const int Regular = 0x8000;
    private const int Socket = 0xC000;

    public static FileKind Of(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (OperatingSystem.IsWindows())
        {
            // Windows has no FIFOs or device nodes in the file system; only the directory case applies.
            return System.IO.Directory.Exists(path) ? FileKind.Directory : File.Exists(path) ? FileKind.Regular : FileKind.Missing;
        }

        // .NET has no managed API for the file type, so ask the runtime's own native shim, the stat() .NET itself uses
        // for FileInfo; only Mode (the second int of its FileStatus) is read, and the buffer is larger than the struct.
        var status = default(NativeFileStatus);
        if (Stat(path, out status) != 0)
        {
            return File.Exists(path) || System.IO.Directory.Exists(path) ? FileKind.Other : FileKind.Missing;
        }

        return (status.Mode & TypeMask) switch
        {
            Regular => FileKind.Regular,
            Directory => FileKind.Directory,
            Fifo => FileKind.Fifo,
            CharacterDevice => FileKind.CharacterDevice,
            BlockDevice => FileKind.BlockDevice,
            Socket => FileKind.Socket,
            _ => FileKind.Other,
        };
    }

    /// <summary>"a directory", "a named pipe (FIFO)" …: how an error names what the path turned out to be.</summary>
    public static string Describe(FileKind kind) => kind switch
    {
        FileKind.Missing => "missing",
        FileKind.Regular => "a regular file",
        FileKind.Directory => "a directory",
        FileKind.Fifo => "a named pipe (FIFO)",
        FileKind.CharacterDevice => "a character device",
        FileKind.BlockDevice => "a block device",
        FileKind.Socket => "a socket",
        _ => "not a regular file",
    };

    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_Stat", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Stat(string path, out NativeFileStatus status);

    [StructLayout(LayoutKind.Sequential, Size = 256)]
    private struct NativeFileStatus
    {
        public int Flags;
        public int Mode;
    }
}
